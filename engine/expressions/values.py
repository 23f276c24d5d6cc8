"""What expressions work on: the ``UNKNOWN`` sentinel and the ``Reference`` record.

They live below ``engine/references.py`` (which re-exports them) so the
expression modules and their callers share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labform.engine.addresses import Address


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

# What a reference names: kind → the form it is written in.
KINDS = {
    "env": "env.NAME",
    "var": "var.NAME",
    "local": "local.NAME",
    "each": "each.key / each.value",
    "count": "count.index",
    "path": "path.module / path.root",
    "module": "module.NAME.OUTPUT",
    "resource": "TYPE.NAME.attr",
    "data": "data.TYPE.NAME.attr",
}


@dataclass(frozen=True)
class Reference:
    """One name an expression reads: what the dependency graph needs and what a lookup is asked.

    ``address`` is the object (resource, data), ``key`` its instance key
    (``TYPE.NAME["k"]`` or ``[0]``), ``splat`` true for ``TYPE.NAME[*]`` (every
    instance: a list); ``attribute`` the path into the object, or a module's
    output and the path into it. ``name`` is the env/var/local name, ``key`` or
    ``value`` for each, ``index`` for count, ``module`` or ``root`` for path, the module's
    name for module (``key`` its instance key, ``attribute`` the output and the path into it)."""

    kind: str
    text: str
    name: str = ""
    default: str | None = None
    address: Address | None = None
    attribute: tuple[str, ...] = ()
    key: str | int | None = None
    splat: bool = False

    @property
    def target(self) -> Address:
        """The object a resource or data reference names (the only kinds looked up in a plan): the
        instance for ``TYPE.NAME["k"]``, the block for ``TYPE.NAME`` and for a splat (all of them)."""
        if self.address is None:
            raise ValueError(f"${{{self.text}}} names no object")
        return self.address if self.key is None else self.address.instance(self.key)


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False
