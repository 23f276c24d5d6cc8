"""Read plan YAML files into plain data while keeping where every key came from.

ruamel.yaml's round-trip loader remembers line and column of each key; we
flatten that into a ``Positions`` map from a key path such as
``("resources", "bitbar_project.checkout", "name")`` to ``file:line:col`` so
any later error (pydantic, references, graph) can point at the source.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from engine.errors import ConfigError, SourceLocation

KeyPath = tuple[Any, ...]
SECTIONS = ("providers", "variables", "resources", "data", "outputs")


@dataclass
class Positions:
    """Source location of every key (and list item) in the loaded files."""

    locations: dict[KeyPath, SourceLocation] = field(default_factory=dict)

    def of(self, path: KeyPath) -> SourceLocation | None:
        """The location of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return None


@dataclass
class LoadedPlan:
    """All plan files merged: plain values per section, positions, file hashes."""

    root: Path
    sections: dict[str, dict[str, Any]]
    positions: Positions
    file_hashes: dict[str, str]


def plan_files(path: Path) -> list[Path]:
    """A file, or the ``*.yaml``/``*.yml`` files of a folder, in a stable order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"no plan file or folder at '{path}'")
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ConfigError(f"no *.yaml plan files in '{path}'")
    return files


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _record(node: Any, prefix: KeyPath, file: str, positions: Positions) -> Any:
    """Convert ruamel nodes to plain values, recording each key's position."""
    if isinstance(node, CommentedMap):
        plain = {}
        for key, value in node.items():
            line, column = node.lc.key(key)
            positions.locations[prefix + (str(key),)] = SourceLocation(file, line + 1, column + 1)
            plain[str(key)] = _record(value, prefix + (str(key),), file, positions)
        return plain
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            line, column = node.lc.item(index)
            positions.locations[prefix + (index,)] = SourceLocation(file, line + 1, column + 1)
            items.append(_record(value, prefix + (index,), file, positions))
        return items
    return node


def _hint(raw: bytes, mark) -> str:
    """A reference inside [...] or {...} must be quoted: YAML reads its braces as a mapping."""
    if mark is None:
        return ""
    lines = raw.decode(errors="replace").splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "${" in line and ("[" in line or "{" in line.replace("${", "")):
        return ' (inside [...] or {...}, quote references: ["${a.b.c}"])'
    return ""


def load(path: Path) -> LoadedPlan:
    """Load and merge plan files; duplicate addresses are an error naming both places."""
    files = plan_files(path)
    yaml = YAML(typ="rt")
    positions = Positions()
    sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    hashes: dict[str, str] = {}
    for file in files:
        shown = _display(file)
        raw = file.read_bytes()
        hashes[shown] = hashlib.sha256(raw).hexdigest()
        try:
            document = yaml.load(raw)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            location = SourceLocation(shown, mark.line + 1, mark.column + 1) if mark else None
            raise ConfigError(f"invalid YAML: {exc.problem or exc.context}{_hint(raw, mark)}", location) from None
        if document is None:
            continue
        if not isinstance(document, CommentedMap):
            raise ConfigError("a plan file must be a mapping of sections", SourceLocation(shown, 1, 1))
        file_positions = Positions()
        plain = _record(document, (), shown, file_positions)
        for section, body in plain.items():
            where = file_positions.locations[(section,)]
            if section not in SECTIONS:
                raise ConfigError(
                    f"unknown section '{section}' (expected one of: {', '.join(SECTIONS)})", where
                )
            if body is None:
                continue
            if not isinstance(body, dict):
                raise ConfigError(f"section '{section}' must be a mapping", where)
            for key, value in body.items():
                if key in sections[section]:
                    first = positions.locations[(section, key)]
                    again = file_positions.locations[(section, key)]
                    raise ConfigError(f"duplicate '{key}' in {section}: first defined at {first}", again)
                sections[section][key] = value
        positions.locations.update(file_positions.locations)
    return LoadedPlan(root=path, sections=sections, positions=positions, file_hashes=hashes)
