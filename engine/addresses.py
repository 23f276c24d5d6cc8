"""Addresses name one object of a plan, in Terraform's one canonical string form.

    bitbar_project.shop                     a block
    data.bitbar_devices.all                 a data source
    bitbar_run.smoke[0]                     an instance of a block with ``count``
    bitbar_project.app["checkout"]          an instance of a block with ``for_each``
    module.ci["checkout"].bitbar_run.smoke  a block inside an instance of a module

The string keys state, the journal, the saved plan and every CLI argument;
a state written before instances existed (``TYPE.NAME`` keys) reads unchanged.
In a shell, quote an address with a string key whole, as Terraform documents:
``-target='bitbar_project.app["checkout"]'``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, total_ordering
from typing import cast

# An instance key: a list position (count) or a map key (for_each); None for a block without either.
Key = int | str | None
# The module instances an address sits in, outermost first: (module name, instance key).
ModulePath = tuple[tuple[str, Key], ...]

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_INDEX = r'\[(?:(\d+)|("(?:[^"\\]|\\.)*"))\]'
_MODULE = re.compile(rf"module\.({_IDENT})(?:{_INDEX})?\.")
_MODULE_CALL = re.compile(rf"module\.({_IDENT})(?:{_INDEX})?$")
_OBJECT = re.compile(rf"(?:(data)\.)?({_IDENT})\.({_IDENT})(?:{_INDEX})?$")


def format_key(key: Key) -> str:
    """``[0]`` or ``["checkout"]`` (a JSON string, as Terraform quotes it); nothing for None."""
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key, ensure_ascii=False)}]"


def module_prefix(module: ModulePath) -> str:
    """``module.ci["checkout"].`` for a path one module deep; nothing at the root."""
    return "".join(f"module.{name}{format_key(key)}." for name, key in module)


def _sortable(key: Key) -> tuple[int, int | str]:
    """Keys of one block are all positions or all names; None sorts first, positions by number."""
    if key is None:
        return (0, 0)
    return (1, key) if isinstance(key, int) else (2, key)


@total_ordering
@dataclass(frozen=True, eq=True)
class Address:
    type: str
    name: str
    is_data: bool = False
    key: Key = None
    module: ModulePath = ()
    # Addresses key every dict and graph of a command, and state by their text: both made once.
    _hash: int = field(init=False, repr=False, compare=False)
    _text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.type, self.name, self.is_data, self.key, self.module)))
        text = f"{module_prefix(self.module)}{'data.' if self.is_data else ''}{self.type}.{self.name}{format_key(self.key)}"
        object.__setattr__(self, "_text", text)

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Address):
            return NotImplemented
        return self._order() < other._order()

    def _order(self) -> tuple[object, ...]:
        modules = tuple((name, _sortable(key)) for name, key in self.module)
        return (modules, self.type, self.name, self.is_data, _sortable(self.key))

    @classmethod
    def parse(cls, text: str) -> Address:
        return _parse(text)

    @property
    def provider(self) -> str:
        """Types are named ``<provider>_<thing>``, as in Terraform."""
        return self.type.split("_", 1)[0]

    @property
    def block(self) -> Address:
        """The block this is an instance of (the address without its instance key)."""
        return self if self.key is None else Address(self.type, self.name, self.is_data, None, self.module)

    def instance(self, key: Key) -> Address:
        return Address(self.type, self.name, self.is_data, key, self.module)

    def within(self, module: ModulePath) -> Address:
        """The same block inside the module instance ``module`` (prefixed to any it is in already)."""
        return Address(self.type, self.name, self.is_data, self.key, module + self.module)

    def contains(self, other: Address) -> bool:
        """Whether ``other`` is this address or one of its instances (a -target of a block takes them all)."""
        return other == self or (self.key is None and other.block == self)

    def __str__(self) -> str:
        return self._text


@dataclass(frozen=True)
class ModuleAddress:
    """A module call or one instance of it, as ``-target`` takes it (``module.ci``, ``module.ci["checkout"]``):
    it holds every object inside, nested modules' too. ``keyed``: the last step names its instance."""

    module: ModulePath
    keyed: bool

    def contains(self, other: Address) -> bool:
        if len(other.module) < len(self.module):
            return False
        *outer, (name, key) = self.module
        inside = other.module[: len(self.module)]
        return list(inside[:-1]) == outer and inside[-1][0] == name and (not self.keyed or inside[-1][1] == key)

    def __str__(self) -> str:
        return module_prefix(self.module)[:-1]


def parse_target(text: str) -> Address | ModuleAddress:
    """What ``-target`` names: an object (or block) address, or a module call or instance."""
    rest, module = text.strip(), cast(ModulePath, ())
    while match := _MODULE.match(rest):
        module += ((match.group(1), _key(match.group(2), match.group(3))),)
        rest = rest[match.end() :]
    if last := _MODULE_CALL.match(rest):
        keyed = last.group(2) is not None or last.group(3) is not None
        return ModuleAddress((*module, (last.group(1), _key(last.group(2), last.group(3)))), keyed)
    return Address.parse(text)


def _key(position: str | None, quoted: str | None) -> Key:
    if position is not None:
        return int(position)
    return None if quoted is None else str(json.loads(quoted))


@cache
def _parse(text: str) -> Address:
    """Parsed once per text: state keys and references name the same addresses again and again."""
    rest, module = text.strip(), cast(ModulePath, ())
    while match := _MODULE.match(rest):
        module += ((match.group(1), _key(match.group(2), match.group(3))),)
        rest = rest[match.end() :]
    match = _OBJECT.match(rest)
    if not match:
        raise ValueError(
            f"'{text}' is not an address (expected TYPE.NAME, data.TYPE.NAME, TYPE.NAME[0], "
            'TYPE.NAME["key"] or module.NAME.TYPE.NAME)'
        )
    key = _key(match.group(4), match.group(5))
    return Address(type=match.group(2), name=match.group(3), is_data=bool(match.group(1)), key=key, module=module)
