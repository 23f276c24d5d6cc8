"""A plan's (or a module's) ``variables:``: bare defaults, or declarations with a type.

    variables:
      region: eu-west-1                  # a bare default, as plans have always written it
      apps:                              # a declaration (Terraform's variable block, in YAML)
        type: list(string)
        default: [checkout, search]
        description: The apps tested on every device group.
      api_token: {type: string, sensitive: true}   # no default: required

A mapping is read as a declaration when each of its keys is one of
``DECLARATION_KEYS`` (so a bare default that is such a mapping needs
declaring: ``{type: map(number), default: {default: 1}}``). A value given
(``--var``, a var file, a module's ``inputs``) is converted to the declared
type; a declaration without a default must be given one; a ``sensitive`` one
is masked in every output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labform.engine.types import TypeMismatch, VarType, parse_type
from labform.providers import masking

DECLARATION_KEYS = frozenset({"type", "default", "description", "sensitive", "nullable"})
ANY = VarType("any")
_NO_DEFAULT = object()


@dataclass(frozen=True)
class Declared:
    type: VarType
    default: Any
    description: str = ""
    sensitive: bool = False

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT


def is_declaration(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= DECLARATION_KEYS


def declared(value: Any) -> Declared:
    """One entry of ``variables:``; ValueError (naming the key) for a declaration it cannot read."""
    if not is_declaration(value):
        return Declared(ANY, value)
    try:
        kind = parse_type(str(value.get("type", "any")))
    except ValueError as exc:
        raise ValueError(f"type: {exc}") from None
    if not isinstance(value.get("sensitive", False), bool):
        raise ValueError("sensitive: expected true or false")
    return Declared(
        kind, value.get("default", _NO_DEFAULT), str(value.get("description", "")), value.get("sensitive", False)
    )


def variable_values(
    section: dict[str, Any], given: dict[str, Any], error: Callable[[str, str], None], giving: str
) -> dict[str, Any]:
    """Every variable's value: the one ``given``, else its default, converted to its type.
    ``error(name, message)`` reports a problem; ``giving`` says how a user sets one ('--var NAME=...')."""
    values: dict[str, Any] = {}
    for name, entry in section.items():
        try:
            declaration = declared(entry)
        except ValueError as exc:
            error(name, f"variable '{name}': {exc}")
            continue
        if name in given:
            value = given[name]
        elif declaration.required:
            error(name, f"variable '{name}' has no default: give it a value ({giving.replace('NAME', name)})")
            continue
        else:
            value = declaration.default
        try:
            values[name] = declaration.type.convert(value)
        except TypeMismatch as exc:
            error(name, f"variable '{name}': {exc}")
            continue
        if declaration.sensitive:
            mask(values[name])
    return values


def mask(value: Any) -> None:
    """Every scalar inside ``value`` masked in all output from now on (a sensitive variable's value)."""
    if isinstance(value, dict):
        for item in value.values():
            mask(item)
    elif isinstance(value, list):
        for item in value:
            mask(item)
    elif isinstance(value, str | int) and not isinstance(value, bool):
        masking.register(value)
