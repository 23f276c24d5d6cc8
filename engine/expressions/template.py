"""A string as labform reads it: literal text and ``${...}`` expressions.

``$${`` writes a literal ``${``. A string that is exactly one ``${...}`` takes
the expression's value with its type (a number, a list, a map); text around
expressions makes the whole a string (interpolation).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from labform.engine.expressions import library
from labform.engine.expressions.desugar import Parsed, desugar
from labform.engine.expressions.errors import ExpressionError
from labform.engine.expressions.lexing import body_end


@dataclass(frozen=True)
class Expression:
    """One ``${...}``: ``start`` is the offset of its ``$`` in the string."""

    start: int
    parsed: Parsed

    @property
    def written(self) -> str:
        return "${" + self.parsed.body + "}"

    def located(self, error: ExpressionError) -> ExpressionError:
        """``error`` (its column counted in the body) counted in the whole string."""
        return error.shifted(self.start + 2)


@dataclass(frozen=True)
class Template:
    parts: tuple[str | Expression, ...]

    @property
    def whole(self) -> Expression | None:
        """The expression, when the string is nothing else."""
        only = self.parts[0] if len(self.parts) == 1 else None
        return only if isinstance(only, Expression) else None

    @property
    def expressions(self) -> list[Expression]:
        return [part for part in self.parts if isinstance(part, Expression)]


def unescape(text: str) -> str:
    return text.replace("$${", "${")


@cache
def parse_template(text: str) -> Template:
    """``text`` taken apart once per command; a malformed expression raises ExpressionError."""
    parts: list[str | Expression] = []
    done = 0
    start = text.find("${")
    while start != -1:
        if start > 0 and text[start - 1] == "$":  # $${ is a literal ${
            start = text.find("${", start + 2)
            continue
        end = body_end(text, start + 2)
        if end is None:  # never closed: literal text, as it always was
            break
        if start > done:
            parts.append(text[done:start])
        parts.append(_expression(text[start + 2 : end], start))
        done = end + 1
        start = text.find("${", done)
    if done < len(text):
        parts.append(text[done:])
    return Template(tuple(parts))


def _expression(body: str, start: int) -> Expression:
    try:
        parsed = desugar(body)
        if not parsed.simple:
            library.compiled(parsed.source)
    except ExpressionError as error:
        raise error.shifted(start + 2) from None
    except library.CompileFailure as failure:
        column = start + 2 + parsed.body_offset(failure.offset) + 1
        raise ExpressionError("cannot parse expression", body, failure.reason, column) from None
    return Expression(start, parsed)
