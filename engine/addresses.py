"""Addresses name one block of a plan: ``TYPE.NAME`` or ``data.TYPE.NAME``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_ADDRESS = re.compile(rf"^(?:(data)\.)?({_IDENT})\.({_IDENT})$")


@dataclass(frozen=True, order=True)
class Address:
    type: str
    name: str
    is_data: bool = False

    @classmethod
    def parse(cls, text: str) -> "Address":
        match = _ADDRESS.match(text.strip())
        if not match:
            raise ValueError(f"'{text}' is not an address (expected TYPE.NAME or data.TYPE.NAME)")
        return cls(type=match.group(2), name=match.group(3), is_data=bool(match.group(1)))

    @property
    def provider(self) -> str:
        """Types are named ``<provider>_<thing>``, as in Terraform."""
        return self.type.split("_", 1)[0]

    def __str__(self) -> str:
        return f"{'data.' if self.is_data else ''}{self.type}.{self.name}"
