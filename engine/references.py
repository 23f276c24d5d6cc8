"""``${...}`` in values: finding the references they read, and substituting their values.

Each ``${...}`` holds one expression (CEL, see engine/expressions/): a plain
reference as always (``env.NAME``, ``env.NAME:-default``, ``var.NAME``,
``TYPE.NAME.attr[.key...]``, ``data.TYPE.NAME.attr...``, and now ``local.NAME``,
``each.key``, ``count.index``, ``module.NAME.OUTPUT``, ``TYPE.NAME["k"].attr``,
``TYPE.NAME[*].attr``) or any CEL over them: ``${var.env == "prod" ? 5 : 1}``,
``${format("%s-%d", var.name, count.index)}``, ``${[var.a, var.b]}``.

A value that is exactly one ``${...}`` takes the expression's value as is (an
int stays an int, a list a list); expressions inside a longer string are
interpolated (``str()`` of each value). ``$${`` escapes a literal ``${``. A
value not known until apply is the ``UNKNOWN`` sentinel, and any expression
reading one is UNKNOWN too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from labform.engine.expressions.errors import ExpressionError
from labform.engine.expressions.evaluate import evaluate
from labform.engine.expressions.literals import NotWritable, literal
from labform.engine.expressions.template import Expression, parse_template, unescape
from labform.engine.expressions.values import UNKNOWN, Reference, contains_unknown

__all__ = [
    "UNKNOWN",
    "ExpressionError",
    "Reference",
    "contains_unknown",
    "dig",
    "parse_reference",
    "references_in",
    "substitute",
]

Lookup = Callable[[Reference], Any]


def parse_reference(text: str) -> Reference | None:
    """What one ``${...}``'s body reads when it is a single reference; None for an expression of
    another shape (``var.a + 1``); ExpressionError when it is neither."""
    whole = parse_template("${" + text + "}").whole
    if whole is None:
        raise ExpressionError("cannot parse reference", text, "a '}' ends the expression early")
    return whole.parsed.references[0] if whole.parsed.simple else None


def references_in(value: Any) -> Iterator[Reference]:
    """Every reference anywhere inside ``value`` (dicts, lists, strings)."""
    if isinstance(value, str):
        if "${" not in value:
            return
        for expression in parse_template(value).expressions:
            yield from expression.parsed.references
    elif isinstance(value, dict):
        for item in value.values():
            yield from references_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from references_in(item)


def substitute(value: Any, lookup: Lookup, kinds: frozenset[str] | None = None, base: Path | None = None) -> Any:
    """Replace each ``${...}`` by its value, the references' values asked of ``lookup``.

    With ``kinds``, only references of those kinds are looked up: an expression
    reading only them is evaluated, one reading others too keeps its ``${...}``
    with the known values written in (loading resolves env and var this way and
    leaves the objects to the planner), and ``$${`` stays escaped for the later
    pass. ``base`` is the folder ``file()`` reads relative paths from (None: the
    working directory). An ExpressionError carries the keys down to its string."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            try:
                result[key] = substitute(item, lookup, kinds, base)
            except ExpressionError as error:
                raise error.within(key) from None
        return result
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            try:
                items.append(substitute(item, lookup, kinds, base))
            except ExpressionError as error:
                raise error.within(index) from None
        return items
    if not isinstance(value, str) or "${" not in value:
        return value
    template = parse_template(value)
    if (whole := template.whole) is not None:
        return _value(whole, lookup, kinds, base)
    pieces = []
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(part if kinds is not None else unescape(part))
            continue
        resolved = _value(part, lookup, kinds, base)
        if resolved is UNKNOWN:
            return UNKNOWN
        pieces.append(str(resolved))
    return "".join(pieces)


def _value(expression: Expression, lookup: Lookup, kinds: frozenset[str] | None, base: Path | None) -> Any:
    """The expression's value; its ``${...}`` text again when it is left for a later pass."""
    parsed = expression.parsed
    if kinds is not None and not parsed.kinds <= kinds:
        return _partly(expression, lambda _, reference: lookup(reference), kinds)
    if parsed.simple:
        return lookup(parsed.bindings[0].reference)
    looked: dict[str, Any] = {}  # a name read twice in one expression is looked up once
    values = []
    for binding in parsed.bindings:
        text = binding.reference.text
        if text not in looked:
            looked[text] = lookup(binding.reference)
        values.append(looked[text])
    if any(_declined(binding.reference, value) for binding, value in zip(parsed.bindings, values, strict=True)):
        # the lookup could not resolve a name (and said so), or, loading, left it for planning
        return expression.written if kinds is None else _partly(expression, lambda number, _: values[number], kinds)
    try:
        return evaluate(parsed, values, base)
    except ExpressionError as error:
        raise expression.located(error) from None


def _declined(reference: Reference, value: Any) -> bool:
    """The lookup gave the reference back as written: it could not resolve it (and said so)."""
    return isinstance(value, str) and value == "${" + reference.text + "}"


def _partly(expression: Expression, value_of: Callable[[int, Reference], Any], kinds: frozenset[str]) -> Any:
    """The expression with the values of ``kinds`` written in, the other references left to read
    (and those the lookup gave back as written: a module's input known only after apply).
    ``value_of(number, reference)`` gives a binding's value (looked up once, whoever asks)."""
    parsed = expression.parsed
    body, done, pieces = parsed.body, 0, []
    for number, binding in enumerate(parsed.bindings):
        if binding.reference.kind not in kinds:
            continue
        value = value_of(number, binding.reference)
        if value is UNKNOWN or contains_unknown(value):
            return UNKNOWN
        if _declined(binding.reference, value):
            continue
        start, end = binding.span
        try:
            pieces += [body[done:start], literal(value) + binding.suffix]
        except NotWritable as exc:
            raise expression.located(ExpressionError("cannot evaluate", body, str(exc), start + 1)) from None
        done = end
    if not pieces:
        return expression.written
    return "${" + "".join(pieces) + body[done:] + "}"


def dig(value: Any, path: tuple[str, ...]) -> Any:
    """Follow ``path`` into nested dicts/lists; raises KeyError when absent."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value
