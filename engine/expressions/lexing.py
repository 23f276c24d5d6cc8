"""The few lexical facts of CEL the template layer needs: where a string literal ends, where a
``${`` closes. Everything else is left to the library."""

from __future__ import annotations

import re

QUOTES = "\"'"
# What may stand before a quote as a CEL string prefix (raw, bytes, both).
_PREFIX = re.compile(r"(?<![A-Za-z0-9_])(?:[rR][bB]?|[bB][rR]?)$")
# A ${...} whose body is env.NAME:-default: the default runs to the first "}" (its text is not CEL).
ENV_DEFAULT = re.compile(r"\s*env\.[A-Za-z_][A-Za-z0-9_]*:-")


def string_end(text: str, start: int) -> int | None:
    """The index just past the string literal whose quote is at ``start``; None if it never closes."""
    quote = text[start]
    prefix = _PREFIX.search(text, 0, start)
    raw = prefix is not None and "r" in prefix.group().lower()
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    index = start + len(delimiter)
    while index < len(text):
        if text.startswith(delimiter, index):
            return index + len(delimiter)
        if text[index] == "\n" and len(delimiter) == 1:
            return None
        index += 2 if text[index] == "\\" and not raw else 1
    return None


def body_end(text: str, start: int) -> int | None:
    """The index of the ``}`` closing the ``${`` whose body starts at ``start``; None if none does.

    Braces of map literals and braces inside string literals are skipped; a body that does not
    scan as CEL (an unclosed quote or brace) ends at its first ``}``, as references always did."""
    if ENV_DEFAULT.match(text, start):
        return _first_brace(text, start)
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char in QUOTES:
            end = string_end(text, index)
            if end is None:
                return _first_brace(text, start)
            index = end
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return _first_brace(text, start)


def _first_brace(text: str, start: int) -> int | None:
    end = text.find("}", start)
    return None if end == -1 else end
