"""Addresses name one block of a plan: ``TYPE.NAME`` or ``data.TYPE.NAME``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_ADDRESS = re.compile(rf"^(?:(data)\.)?({_IDENT})\.({_IDENT})$")


@dataclass(frozen=True, order=True)
class Address:
    type: str
    name: str
    is_data: bool = False
    # Addresses key every dict and graph of a command: hashed once, not on every look-up.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.type, self.name, self.is_data)))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def parse(cls, text: str) -> Address:
        return _parse(text)

    @property
    def provider(self) -> str:
        """Types are named ``<provider>_<thing>``, as in Terraform."""
        return self.type.split("_", 1)[0]

    def __str__(self) -> str:
        return f"{'data.' if self.is_data else ''}{self.type}.{self.name}"


@cache
def _parse(text: str) -> Address:
    """Parsed once per text: state keys and references name the same addresses again and again."""
    match = _ADDRESS.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not an address (expected TYPE.NAME or data.TYPE.NAME)")
    return Address(type=match.group(2), name=match.group(3), is_data=bool(match.group(1)))
