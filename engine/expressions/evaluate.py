"""One parsed expression's value, from the values of the references it reads.

Numbers: YAML gives ints and doubles. CEL compares them as numbers (``1 == 1.0``,
``2 < 2.5``, ``1 in [1.0]``), so ``${var.n == 1}`` holds for ``n: 1.0``; its
arithmetic does not mix them (``var.n + 1`` with ``n: 1.0`` is an error naming
``double(x)``/``int(x)``), which keeps an int an int. Any input that only apply
knows (UNKNOWN, or a list or map holding one) makes the value UNKNOWN. A map comes
out ordered by key (the library keeps no order), as Terraform orders its maps.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from labform.engine.expressions import library
from labform.engine.expressions.desugar import Parsed
from labform.engine.expressions.errors import ExpressionError
from labform.engine.expressions.functions import functions, last_failure
from labform.engine.expressions.values import UNKNOWN, contains_unknown

_SCALARS = (str, int, float, bool, type(None))
_READS_OUTSIDE = frozenset({"file", "command"})  # their value is not a function of the expression's inputs


def evaluate(parsed: Parsed, values: Sequence[Any], base: Path | None = None) -> Any:
    """``values``: each binding's value, in order. Errors count their column in the body (from 1).

    An expression is a pure function of its inputs (``file`` aside, which reads a disk that may
    change), so one whose inputs are all scalars is worked out once per command for those inputs:
    a plan repeating one expression over the same variables pays the library once, not per block."""
    scalars = True
    for value in values:  # one pass: scalars are known (UNKNOWN is none), other values are searched
        if not isinstance(value, _SCALARS):
            if contains_unknown(value):
                return UNKNOWN
            scalars = False
    if scalars and not parsed.calls & _READS_OUTSIDE:
        # The type goes in the key: 1, 1.0 and True are equal, and hash alike, in Python.
        remembered = _remembered(parsed, tuple((type(value), value) for value in values), base)
        return copy.deepcopy(remembered) if isinstance(remembered, list | dict) else remembered
    return _computed(parsed, values, base)


@lru_cache(maxsize=4096)
def _remembered(parsed: Parsed, typed: tuple[tuple[type, Any], ...], base: Path | None) -> Any:
    return _computed(parsed, [value for _, value in typed], base)


def _computed(parsed: Parsed, values: Sequence[Any], base: Path | None) -> Any:
    context: dict[str, Any] = dict(zip(parsed.names, values, strict=True))
    if parsed.calls:
        table = functions(base)
        context.update((name, table[name]) for name in parsed.calls if name in table)
        last_failure()  # one a CEL `||` absorbed earlier is no reason for this one
    try:
        result = library.compiled(parsed.source).execute(context)
    except Exception as exc:  # the library raises builtin exception types of every kind
        failure = last_failure() if parsed.calls else None
        raise ExpressionError("cannot evaluate", parsed.body, failure or library.reason(exc)) from None
    return _plain(result, parsed)


def _plain(value: Any, parsed: Parsed) -> Any:
    """The value as labform's data holds it: text, number, bool, null, lists and maps of them."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list):
        return [_plain(item, parsed) for item in value]
    if isinstance(value, dict):  # CEL's maps come back in no fixed order: by key, as Terraform's are
        return {key: _plain(value[key], parsed) for key in sorted(value, key=_key_order)}
    kind = {"bytes": "bytes", "datetime": "a timestamp", "timedelta": "a duration"}.get(type(value).__name__)
    reason = f"the value is {kind or type(value).__name__}; write string(...) to make it text"
    raise ExpressionError("cannot evaluate", parsed.body, reason)


def _key_order(key: Any) -> tuple[bool, str]:
    return not isinstance(key, str), str(key)
