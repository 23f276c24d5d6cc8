"""The units a suite can be sharded into: the packages a plan's kyaraben campaigns select, or a list in a file.

A kyaraben campaign's tests select packages, so those are units a cloud can
run apart today. A units file names any others (test ids, classes,
packages), one a line; blank lines and ``#`` comments are skipped.
"""

from __future__ import annotations

from pathlib import Path

from engine.history.errors import HistoryError


def is_plan(path: Path) -> bool:
    return path.is_dir() or path.suffix in (".yaml", ".yml")


def plan_units(path: Path) -> list[str]:
    """Each package the plan's kyaraben_campaign tests select, once, in the order the plan names them."""
    from engine.loader import load

    units: dict[str, None] = {}
    for address, block in load(path).sections["resources"].items():
        if not address.startswith("kyaraben_campaign.") or not isinstance(block, dict):
            continue
        for test in block.get("tests") or []:
            packages = test.get("packages") if isinstance(test, dict) else None
            for package in packages or []:
                if not isinstance(package, str) or "${" in package:
                    raise HistoryError(f"{address}: a package named by an expression ({package!r}) cannot be sharded")
                units[package] = None
    if not units:
        raise HistoryError(f"{path} selects no units to shard (the packages of its kyaraben_campaign tests)")
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


def suite_units(path: Path) -> list[str]:
    """A plan's units, or a units file's."""
    return plan_units(path) if is_plan(path) else file_units(path)
