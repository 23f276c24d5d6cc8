"""The few lexical facts of CEL the template layer needs: where a string literal ends, where a
``${`` closes. Everything else is left to the library."""

from __future__ import annotations

import re

QUOTES = "\"'"
# What a body's scan stops at: a quote or a brace.
_MARK = re.compile(r"[\"'{}]")
# A ${...} whose body is env.NAME:-default: the default runs to the first "}" (its text is not CEL).
ENV_DEFAULT = re.compile(r"\s*env\.[A-Za-z_][A-Za-z0-9_]*:-")


def string_end(text: str, start: int) -> int | None:
    """The index just past the string literal whose quote is at ``start``; None if it never closes."""
    quote = text[start]
    raw = _raw(text, start)
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    index = start + len(delimiter)
    while index < len(text):
        if text.startswith(delimiter, index):
            return index + len(delimiter)
        if text[index] == "\n" and len(delimiter) == 1:
            return None
        index += 2 if text[index] == "\\" and not raw else 1
    return None


def _raw(text: str, quote: int) -> bool:
    """Whether the quote at ``quote`` opens a raw string: ``r"..."``, ``rb'...'``, ``Br"..."``."""
    letters = text[max(0, quote - 2) : quote].lower()
    before = max(0, quote - 2) - 1
    if letters in ("rb", "br") and (before < 0 or not (text[before].isalnum() or text[before] == "_")):
        return True
    letter_before = quote - 2
    return letters[-1:] == "r" and (
        letter_before < 0 or not (text[letter_before].isalnum() or text[letter_before] == "_")
    )


def body_end(text: str, start: int) -> int | None:
    """The index of the ``}`` closing the ``${`` whose body starts at ``start``; None if none does.

    Braces of map literals and braces inside string literals are skipped; a body that does not
    scan as CEL (an unclosed quote or brace) ends at its first ``}``, as references always did."""
    if ENV_DEFAULT.match(text, start):
        return _first_brace(text, start)
    depth, index = 0, start
    while (mark := _MARK.search(text, index)) is not None:
        index = mark.start()
        char = text[index]
        if char in QUOTES:
            end = string_end(text, index)
            if end is None:
                return _first_brace(text, start)
            index = end
            continue
        if char == "{":
            depth += 1
        elif depth == 0:
            return index
        else:
            depth -= 1
        index += 1
    return _first_brace(text, start)


def _first_brace(text: str, start: int) -> int | None:
    end = text.find("}", start)
    return None if end == -1 else end
