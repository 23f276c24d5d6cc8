"""``format(spec, values...)``: Terraform's printf-style verbs, on the values CEL hands over.

    %%  a percent sign            %v  the value as interpolation shows it (lists, maps: JSON)
    %#v JSON of any value         %t  true or false
    %d %b %o %x %X  an integer (decimal, binary, octal, hex)
    %f %e %E %g %G  a number      %s  text (a number or bool written out)   %q  text, JSON-quoted

Flags ``-`` (left), ``+``, space, ``0``, ``#``, a width and ``.precision`` as in C; ``%[n]d`` takes
the n-th value (from 1) and the verbs after it go on from there. Every value must be used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

_VERB = re.compile(r"%([-+# 0]*)([0-9]+)?(?:\.([0-9]*))?(?:\[([0-9]+)\])?([A-Za-z%])")


class FormatError(Exception):
    pass


def number_text(value: int | float) -> str:
    """A number as text: a whole double without its ``.0`` (``5``, not ``5.0``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def _text(value: Any, verb: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value)
    if value is None:
        raise FormatError(f"%{verb} cannot write null")
    raise FormatError(f"%{verb} needs text, a number or a bool, not a {'list' if isinstance(value, list) else 'map'}")


def _number(value: Any, verb: str, whole: bool) -> int | float:
    if isinstance(value, str):
        try:
            value = float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            raise FormatError(f"%{verb} needs a number, not the text {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormatError(f"%{verb} needs a number")
    if whole:
        if isinstance(value, float) and not value.is_integer():
            raise FormatError(f"%{verb} needs a whole number, not {value}")
        return int(value)
    return float(value)


def _spec(flags: str, width: str | None, precision: str | None) -> str:
    align = "<" if "-" in flags else ""
    sign = "+" if "+" in flags else " " if " " in flags else ""
    zero = "0" if "0" in flags and not align else ""
    return f"{align}{sign}{'#' if '#' in flags else ''}{zero}{width or ''}{'.' + (precision or '0') if precision is not None else ''}"


def _one(verb: str, flags: str, width: str | None, precision: str | None, value: Any) -> str:
    if verb in "dboxX":
        return format(_number(value, verb, whole=True), _spec(flags, width, None) + verb)
    if verb in "feEgG":
        return format(_number(value, verb, whole=False), _spec(flags, width, precision) + verb)
    if verb == "t":
        if not isinstance(value, bool) and value not in ("true", "false"):
            raise FormatError("%t needs a bool")
        text = "true" if value in (True, "true") else "false"
    elif verb == "v" and "#" in flags or verb == "v" and isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    elif verb == "v":
        text = "null" if value is None else _text(value, verb)
    elif verb == "s":
        text = _text(value, verb)
    elif verb == "q":
        text = json.dumps(_text(value, verb), ensure_ascii=False)
    else:
        raise FormatError(f"unknown verb %{verb}")
    if precision is not None and verb != "q":
        text = text[: int(precision or 0)]
    return format(text, f"{'<' if '-' in flags else '>'}{width or ''}")


def format_text(spec: str, values: Sequence[Any]) -> str:
    pieces, used, following, done = [], set(), 0, 0
    for match in _VERB.finditer(spec):
        flags, width, precision, index, verb = match.groups()
        pieces.append(spec[done : match.start()])
        done = match.end()
        if verb == "%":
            pieces.append("%")
            continue
        following = int(index) - 1 if index else following
        if not 0 <= following < len(values):
            raise FormatError(f"no value for the verb %{verb} at {match.start() + 1} ({len(values)} given)")
        pieces.append(_one(verb, flags, width, precision, values[following]))
        used.add(following)
        following += 1
    pieces.append(spec[done:])
    if len(used) < len(values):
        raise FormatError(f"{len(values)} values given but the specification uses {len(used)}")
    return "".join(pieces)
