"""The units a suite can be sharded into: the parts a plan's runs can start apart, or a list in a file.

Which parts a run can start apart is its resource type's to say
(``ResourceType.shard_units``: a campaign's packages, say); the engine names
no cloud. A units file names any others (test ids, classes, packages), one a
line; blank lines and ``#`` comments are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from labform.engine.history.errors import HistoryError


def is_plan(path: Path) -> bool:
    return path.is_dir() or path.suffix in (".yaml", ".yml")


def plan_units(path: Path, recorded_on: Callable[[str], list[str]]) -> list[str]:
    """Each part the plan's runs can start apart, once, in the order the plan names them (a run whose
    block names none, by the tests ``recorded_on`` its cloud)."""
    from labform.engine.loader import load
    from labform.providers import registry

    units: dict[str, None] = {}
    for address, block in load(path).sections["resources"].items():
        kind = registry.resource_type(address.split(".", 1)[0])
        if kind is None or not isinstance(block, dict):
            continue
        for unit in kind.shard_units(block, recorded_on(address.split("_", 1)[0])):
            if not isinstance(unit, str) or "${" in unit:
                raise HistoryError(f"{address}: a unit named by an expression ({unit!r}) cannot be sharded")
            units[unit] = None
    if not units:
        raise HistoryError(f"{path} selects no units to shard (no run in it can start part of its suite apart)")
    return list(units)


def file_units(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"cannot read the units file {path}: {exc}") from None
    units = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    if not any(units):
        raise HistoryError(f"{path} names no units (one test id, class or package a line)")
    return [unit for unit in units if unit]


def suite_units(path: Path, recorded_on: Callable[[str], list[str]]) -> list[str]:
    """A plan's units, or a units file's."""
    return plan_units(path, recorded_on) if is_plan(path) else file_units(path)
