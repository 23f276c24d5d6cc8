"""Variable types in Terraform's grammar, shared by a plan's and a module's ``variables:``.

    string   number   bool   any
    list(T)  map(T)   object({name: T, ...})

A value is converted the way Terraform converts one (so ``--var n=3`` gives
the number 3): a number or a bool becomes a string where a string is wanted,
a string of digits a number, "true"/"false" a bool; anything else that does
not fit is a :class:`TypeMismatch` naming where, what was wanted, what came.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PRIMITIVES = ("string", "number", "bool", "any")
_CALL = re.compile(r"^(list|map|set|object)\((.*)\)$", re.S)


class TypeMismatch(ValueError):
    """A value not of its declared type; ``where`` is the path inside it ('' for the value itself)."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


@dataclass(frozen=True)
class VarType:
    """One type: ``kind`` is a primitive or list/map/object; ``items`` the element type or, for an object, its members."""

    kind: str
    element: VarType | None = None
    members: tuple[tuple[str, VarType], ...] = ()

    def __str__(self) -> str:
        if self.kind in ("list", "map"):
            return f"{self.kind}({self.element})"
        if self.kind == "object":
            return "object({" + ", ".join(f"{name}: {kind}" for name, kind in self.members) + "})"
        return self.kind

    def convert(self, value: Any, where: str = "") -> Any:
        """``value`` as this type, converted as Terraform would; TypeMismatch when it cannot be."""
        if value is None or self.kind == "any":
            return value
        if isinstance(value, str) and self.kind in ("list", "map", "object"):
            value = _written(value, where, self)  # --var 'apps=["a", "b"]': the value as written
        if self.kind == "string":
            if isinstance(value, str):
                return value
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, int | float):
                return str(value)
        elif self.kind == "number":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            if isinstance(value, str):
                return _number(value, where)
        elif self.kind == "bool":
            if isinstance(value, bool):
                return value
            if value in ("true", "false"):
                return value == "true"
        elif self.kind == "list" and isinstance(value, list):
            assert self.element is not None
            return [self.element.convert(item, f"{where}[{index}]") for index, item in enumerate(value)]
        elif self.kind == "map" and isinstance(value, dict):
            assert self.element is not None
            return {str(key): self.element.convert(item, f"{where}.{key}".lstrip(".")) for key, item in value.items()}
        elif self.kind == "object" and isinstance(value, dict):
            return self._object(value, where)
        raise TypeMismatch(where, f"expected {self}, got {described(value)}")

    def _object(self, value: dict[str, Any], where: str) -> dict[str, Any]:
        names = dict(self.members)
        extra = sorted(set(value) - set(names))
        if extra:
            raise TypeMismatch(where, f"{self} has no member '{extra[0]}'")
        missing = [name for name in names if name not in value]
        if missing:
            raise TypeMismatch(where, f"{self} needs member '{missing[0]}'")
        return {name: kind.convert(value[name], f"{where}.{name}".lstrip(".")) for name, kind in self.members}


def _written(text: str, where: str, kind: VarType) -> Any:
    """A list or map given as text (a --var, an environment variable), read as YAML flow (JSON included)."""
    from ruamel.yaml import YAML, YAMLError

    try:
        return YAML(typ="safe").load(text)
    except YAMLError:
        raise TypeMismatch(where, f"expected {kind}, got the string {text!r}, which is no list or map") from None


def _number(text: str, where: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise TypeMismatch(where, f"expected number, got the string {text!r}") from None


def described(value: Any) -> str:
    """A YAML value's kind in a message's words: "a number", "a map", "null"."""
    names = {bool: "a bool", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a map"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def parse_type(text: str) -> VarType:
    """``list(map(string))`` and the like as a VarType; ValueError naming the part it cannot read."""
    text = text.strip()
    if text in _PRIMITIVES:
        return VarType(text)
    match = _CALL.match(text)
    if not match:
        raise ValueError(
            f"unknown type '{text}' (expected string, number, bool, any, list(T), map(T) or object({{...}}))"
        )
    kind, inner = match.group(1), match.group(2).strip()
    if kind == "set":  # a set is a list without duplicates; labform keeps lists
        kind = "list"
    if kind != "object":
        return VarType(kind, element=parse_type(inner))
    if not (inner.startswith("{") and inner.endswith("}")):
        raise ValueError(f"object(...) takes {{name: type, ...}}, not '{inner}'")
    return VarType("object", members=tuple((name, parse_type(kind)) for name, kind in _members(inner[1:-1])))


def _members(text: str) -> list[tuple[str, str]]:
    """``a: string, b: list(number)`` split at the top level's commas (``=`` as Terraform writes it works too)."""
    members, depth, start = [], 0, 0
    for index, char in enumerate(text + ","):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == "," and depth == 0:
            part = text[start:index].strip()
            start = index + 1
            if not part:
                continue
            name, separator, kind = part.partition(":") if ":" in part else part.partition("=")
            if not separator or not name.strip():
                raise ValueError(f"object member '{part}' is not 'name: type'")
            members.append((name.strip(), kind.strip()))
    return members
