"""Split a suite's units (test ids, classes or packages) into balanced shards by their recorded durations.

Pure: durations in, shards out, the same shards for the same inputs.
Longest-processing-time first: units are taken longest first (ties by name)
and each goes to the shard that would end soonest (ties to the lowest
index), which keeps the longest shard within 4/3 of the best possible.

A unit's duration is the sum of the typical durations of the tests it covers
(a test id covers itself; ``com.app.LoginTest`` covers its methods, ``com.app``
its classes). A unit history knows nothing of gets the median of the known
ones. ``shards: N`` needs at least one known duration; ``shard_time: T`` asks
for as many shards as it takes for each to last about T (at most N when both
are given), and with nothing recorded takes every unit as Flank's default
test time, 120 s.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labform.engine.history.errors import HistoryError

DEFAULT_UNIT_SECONDS = 120.0  # Flank's default-test-time: a guess for a suite never run before


@dataclass(frozen=True)
class Shard:
    units: tuple[str, ...]
    expected: float  # seconds, from the recorded durations (and the guesses for unknown units)


@dataclass(frozen=True)
class Estimates:
    """Each unit's expected seconds, and which of them history did not know (they got ``guess``)."""

    seconds: dict[str, float]
    unknown: tuple[str, ...]
    guess: float


def clock(seconds: float) -> str:
    """6.5s, 3m05s, 1h02m: tenths where a shard is short, since shards of seconds are told apart by them."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{secs:02d}s"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def unit_durations(units: Sequence[str], test_seconds: Mapping[str, float]) -> dict[str, float]:
    """The recorded seconds of each unit history has seen: the sum over the tests it covers."""
    wanted = set(units)
    found: dict[str, float] = {}
    for test_id, seconds in test_seconds.items():
        parts = test_id.split(".")
        for end in range(1, len(parts) + 1):  # the test, its class, its packages: each a unit it counts in
            prefix = ".".join(parts[:end])
            if prefix in wanted:
                found[prefix] = found.get(prefix, 0.0) + seconds
    return found


def estimates(units: Sequence[str], known: Mapping[str, float], fallback: float | None = None) -> Estimates:
    """Every unit's expected seconds: as recorded, else the median of the recorded, else ``fallback``."""
    recorded = [known[u] for u in units if u in known]
    guess = statistics.median(recorded) if recorded else fallback
    unknown = tuple(u for u in units if u not in known)
    if guess is None and unknown:
        raise HistoryError(
            f"shards: no recorded duration for any of the {len(units)} units, so they cannot be balanced: "
            "record a run first (labform tests record JUNIT --cloud CLOUD) or give shard_time"
        )
    return Estimates({u: known.get(u, guess or 0.0) for u in units}, unknown, guess or 0.0)


@dataclass(frozen=True)
class ShardPlan:
    shards: list[Shard]
    estimates: Estimates

    def as_json(self) -> dict[str, Any]:
        return {
            "shards": [{"expected_seconds": round(s.expected, 3), "units": list(s.units)} for s in self.shards],
            "unknown_units": list(self.estimates.unknown),
            "unknown_unit_seconds": round(self.estimates.guess, 3),
        }

    def text(self) -> str:
        total = sum(s.expected for s in self.shards)
        longest = max(s.expected for s in self.shards)
        units = sum(len(s.units) for s in self.shards)
        lines = [
            f"{_count(len(self.shards), 'shard')} of {_count(units, 'unit')}, {clock(total)} in all; "
            f"the longest is expected to take {clock(longest)}."
        ]
        if self.estimates.unknown:
            lines.append(
                f"No recorded duration for {_count(len(self.estimates.unknown), 'unit')}, counted as "
                f"{clock(self.estimates.guess)} each: {', '.join(self.estimates.unknown)}"
            )
        for number, shard in enumerate(self.shards, 1):
            lines.append(f"shard {number}: expected {clock(shard.expected)}, {_count(len(shard.units), 'unit')}")
            lines += [f"  {unit}" for unit in shard.units]
        return "\n".join(lines)


def split(
    units: Sequence[str],
    known: Mapping[str, float],
    shards: int | None = None,
    shard_time: float | None = None,
) -> ShardPlan:
    """``units`` in balanced shards, by ``known`` seconds per unit (unit_durations)."""
    if shards is None and shard_time is None:
        raise HistoryError("give shards (how many shards, --shards N) or shard_time (how long each, --shard-time 5m)")
    if shards is not None and shards < 1:
        raise HistoryError(f"shards must be at least 1, not {shards}")
    if shard_time is not None and shard_time <= 0:
        raise HistoryError(f"shard_time must be longer than 0s, not {shard_time:g}s")
    twice = sorted(unit for unit, times in Counter(units).items() if times > 1)
    if twice:
        raise HistoryError(f"units listed twice: {', '.join(twice)}")
    if not units:
        raise HistoryError("no units to shard")
    if any(seconds < 0 for seconds in known.values()):
        raise HistoryError("a recorded duration is negative")
    expected = estimates(units, known, DEFAULT_UNIT_SECONDS if shard_time is not None else None)
    count = shards or len(units)
    if shard_time is not None:
        count = min(count, max(1, math.ceil(sum(expected.seconds.values()) / shard_time)))
    return ShardPlan(longest_first(expected.seconds, min(count, len(units))), expected)


def longest_first(seconds: Mapping[str, float], count: int) -> list[Shard]:
    """LPT: each unit, longest first, to the shard that ends soonest; ties go by name and by index."""
    loads = [(0.0, index) for index in range(count)]
    members: list[list[str]] = [[] for _ in range(count)]
    for unit in sorted(seconds, key=lambda u: (-seconds[u], u)):
        load, index = heapq.heappop(loads)
        members[index].append(unit)
        heapq.heappush(loads, (load + seconds[unit], index))
    return [Shard(tuple(units), sum(seconds[u] for u in units)) for units in members]
