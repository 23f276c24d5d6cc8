"""``moved:`` and ``removed:``: renaming an address, or letting go of an object, without touching the cloud.

    moved:
      - {from: bitbar_project.shop, to: bitbar_project.app["shop"]}   # into a for_each instance
    removed:
      - from: bitbar_device_group.old
        lifecycle: {destroy: false}                                  # forget it; the cloud keeps it

As in Terraform: on the next plan, state found under a ``from`` is carried to
its ``to`` (chained moves resolve: A to B and B to C carry A to C) and shown
as "has moved to", with no remote call; a move of a block carries each of its
instances (``from: x.a`` takes ``x.a[0]`` to ``x.b[0]``). A ``removed`` block
with ``destroy: false`` drops the object from state and leaves it in the
cloud; with ``destroy: true`` it is destroyed as a deleted block would be.
A ``from`` still in the plan, a move cycle, or two moves of one address are
errors before any call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from labform.engine.addresses import Address
from labform.engine.changes import Notice
from labform.engine.state.model import State

# (the index of the entry in its section, the key) -> the error to report at it.
Report = Callable[[tuple[Any, ...], str], None]


@dataclass(frozen=True)
class Move:
    source: Address
    target: Address


@dataclass(frozen=True)
class Removal:
    address: Address
    destroy: bool


def parse_moves(entries: Any, report: Report) -> list[Move]:
    moves: list[Move] = []
    for index, entry in enumerate(_entries(entries, "moved", report)):
        source = _address(entry, "from", ("moved", index), report)
        target = _address(entry, "to", ("moved", index), report)
        extra = sorted(set(entry) - {"from", "to"})
        if extra:
            report(("moved", index, extra[0]), f"moved takes from and to, not '{extra[0]}'")
        if source is not None and target is not None:
            if source.type != target.type or source.is_data or target.is_data:
                report(("moved", index, "to"), f"a move keeps the resource type: {source} cannot become {target}")
                continue
            moves.append(Move(source, target))
    seen: dict[Address, int] = {}
    for index, move in enumerate(moves):
        if move.source in seen:
            report(("moved", index, "from"), f"{move.source} is moved twice (entries {seen[move.source]} and {index})")
        seen.setdefault(move.source, index)
    _refuse_cycles(moves, report)
    return moves


def parse_removals(entries: Any, report: Report) -> list[Removal]:
    removals = []
    for index, entry in enumerate(_entries(entries, "removed", report)):
        address = _address(entry, "from", ("removed", index), report)
        lifecycle = entry.get("lifecycle", {})
        destroy = lifecycle.get("destroy") if isinstance(lifecycle, dict) else None
        if not isinstance(destroy, bool):
            report(
                ("removed", index, "lifecycle"), "removed needs lifecycle: {destroy: false} (forget) or {destroy: true}"
            )
            continue
        if address is not None:
            removals.append(Removal(address, destroy))
    return removals


def refuse_still_planned(
    moves: Iterable[Move], removals: Iterable[Removal], planned: set[Address], report: Report
) -> None:
    """A ``from`` that the plan still declares would be both kept and moved away: Terraform refuses it too."""
    blocks = {address.block for address in planned}
    for index, move in enumerate(moves):
        if move.source in planned or (move.source.key is None and move.source in blocks):
            report(("moved", index, "from"), f"{move.source} is still in the plan: remove its block, or drop this move")
    for index, removal in enumerate(removals):
        if removal.address in planned or removal.address in blocks:
            report(("removed", index, "from"), f"{removal.address} is still in the plan: remove its block first")


def carried(moves: list[Move], addresses: Iterable[Address]) -> dict[Address, Address]:
    """Where each of ``addresses`` (state's) ends up after every move, chains followed; only those that move."""
    result = {}
    for address in addresses:
        now, hops = address, 0
        while (step := _step(moves, now)) is not None and hops <= len(moves):
            now, hops = step, hops + 1
        if now != address:
            result[address] = now
    return result


def carry(state: State, moves: list[Move], removals: list[Removal]) -> tuple[State, Carried]:
    """The state a plan is made against, moves and removals applied (the state read is left as it was;
    apply writes them through the recorder), with what moved, what is forgotten, and moves that could not be."""
    letting_go = [r.address for r in removals if not r.destroy]
    if not moves and not letting_go:  # every plan passes here: most carry nothing
        return state, Carried([], [], [])
    addresses = [Address.parse(key) for key in state.resources]
    forgotten = {a for a in addresses if any(address.contains(a) for address in letting_go)}
    resources = {key: item for key, item in state.resources.items() if Address.parse(key) not in forgotten}
    moved, notices = [], []
    for source, target in sorted(carried(moves, addresses).items()):
        if source in forgotten:
            continue
        if str(target) in resources:
            notices.append(Notice(source, f"not moved to {target}: an object is in state there already"))
            continue
        resources[str(target)] = resources.pop(str(source))
        moved.append((source, target))
    return replace(state, resources=resources), Carried(moved, sorted(forgotten), notices)


@dataclass(frozen=True)
class Carried:
    moved: list[tuple[Address, Address]]
    forgotten: list[Address]
    notices: list[Notice]


def _step(moves: list[Move], address: Address) -> Address | None:
    for move in moves:
        if move.source == address:
            return move.target
        if (
            move.source.key is None
            and move.target.key is None
            and address.key is not None
            and address.block == move.source
        ):
            return move.target.instance(address.key)
    return None


def _refuse_cycles(moves: list[Move], report: Report) -> None:
    targets = {move.source: move.target for move in moves}
    for index, move in enumerate(moves):
        path, now = [move.source], move.target
        while now in targets and now not in path:
            path.append(now)
            now = targets[now]
        if now == move.source:
            cycle = " -> ".join(str(a) for a in [*path, now])
            report(("moved", index), f"moves go round in a cycle: {cycle}")
            return


def _entries(value: Any, section: str, report: Report) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        report((section,), f"{section} is a list of entries ({section}: [{{from: ADDR, ...}}])")
        return []
    kept = []
    for index, entry in enumerate(value):
        if isinstance(entry, dict):
            kept.append(entry)
        else:
            report((section, index), f"each {section} entry is a mapping with from: ADDR")
    return kept


def _address(entry: dict[str, Any], key: str, path: tuple[Any, ...], report: Report) -> Address | None:
    if key not in entry:
        report(path, f"missing '{key}: ADDRESS'")
        return None
    try:
        return Address.parse(str(entry[key]))
    except ValueError as exc:
        report((*path, key), str(exc))
        return None
