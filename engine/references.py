"""``${...}`` references: parsing, finding, and substituting them in values.

Grammar (one expression per ``${}``; ``$${`` escapes a literal ``${``)::

    env.NAME            env.NAME:-default
    var.NAME
    TYPE.NAME.attr[.key...]
    data.TYPE.NAME.attr[.key...]

A value that is exactly one reference takes the referenced value as is (an
int stays an int); a reference inside a longer string is interpolated.
A value not known until apply is the ``UNKNOWN`` sentinel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from engine.addresses import Address

_TEMPLATE = re.compile(r"(?<!\$)\$\{([^}]*)\}")
_ENV = re.compile(r"^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.S)
_VAR = re.compile(r"^var\.([A-Za-z_][A-Za-z0-9_]*)$")
_OBJECT = re.compile(r"^((?:data\.)?[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*)\.([A-Za-z_]\w*(?:\.\w+)*)$")


class _Unknown:
    """A value that only apply will know (an id of an object not yet created)."""

    _instance = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __reduce__(self) -> tuple[type[_Unknown], tuple[()]]:
        return (_Unknown, ())


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Reference:
    """One parsed ``${...}``; ``kind`` is env, var, resource or data."""

    kind: str
    text: str
    name: str = ""
    default: str | None = None
    address: Address | None = None
    attribute: tuple[str, ...] = ()

    @property
    def target(self) -> Address:
        """The object a resource or data reference names (the only kinds looked up in a plan)."""
        if self.address is None:
            raise ValueError(f"${{{self.text}}} names no object")
        return self.address


@cache
def parse_reference(text: str) -> Reference:
    """One ``${...}``'s body, parsed once per command however often the plan repeats it."""
    body = text.strip()
    if match := _ENV.match(body):
        return Reference("env", body, name=match.group(1), default=match.group(2))
    if match := _VAR.match(body):
        return Reference("var", body, name=match.group(1))
    if match := _OBJECT.match(body):
        address = Address.parse(match.group(1))
        kind = "data" if address.is_data else "resource"
        return Reference(kind, body, address=address, attribute=tuple(match.group(2).split(".")))
    raise ValueError(
        f"cannot parse reference '${{{text}}}' (expected env.X, var.X, TYPE.NAME.attr or data.TYPE.NAME.attr)"
    )


def references_in(value: Any) -> Iterator[Reference]:
    """Every reference anywhere inside ``value`` (dicts, lists, strings)."""
    if isinstance(value, str):
        if "${" not in value:
            return
        for match in _TEMPLATE.finditer(value):
            yield parse_reference(match.group(1))
    elif isinstance(value, dict):
        for item in value.values():
            yield from references_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from references_in(item)


def substitute(value: Any, lookup: Callable[[Reference], Any], kinds: frozenset[str] | None = None) -> Any:
    """Replace references (only those whose kind is in ``kinds``, if given)."""
    if isinstance(value, dict):
        return {key: substitute(item, lookup, kinds) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, lookup, kinds) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    matches = list(_TEMPLATE.finditer(value))
    if len(matches) == 1 and matches[0].span() == (0, len(value)):
        ref = parse_reference(matches[0].group(1))
        return lookup(ref) if kinds is None or ref.kind in kinds else value
    unknown = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unknown
        ref = parse_reference(match.group(1))
        if kinds is not None and ref.kind not in kinds:
            return match.group(0)
        resolved = lookup(ref)
        if resolved is UNKNOWN:
            unknown = True
            return ""
        return str(resolved)

    text = _TEMPLATE.sub(replace, value)
    if unknown:
        return UNKNOWN
    return text if kinds is not None else text.replace("$${", "${")


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def dig(value: Any, path: tuple[str, ...]) -> Any:
    """Follow ``path`` into nested dicts/lists; raises KeyError when absent."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value
