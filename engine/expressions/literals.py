"""A known value written back as CEL text, so an expression can keep the values known at load
(env, var) while it waits for the ones only the plan knows (an object's id)."""

from __future__ import annotations

import json
import math
from typing import Any

_INT64 = 2**63


class NotWritable(Exception):
    """A value CEL has no literal for (a date YAML read, a number past 64 bits)."""


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise NotWritable(f"{value} is past the 64-bit integers CEL has")
        return f"({value})" if value < 0 else str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f'double("{value}")'
        text = repr(value)
        return f"({text})" if value < 0 else text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(key)}: {literal(item)}" for key, item in value.items()) + "}"
    raise NotWritable(f"a {type(value).__name__} has no place in an expression")
