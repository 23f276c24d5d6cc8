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

from engine.history.errors import HistoryError

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


def split(
    units: Sequence[str],
    known: Mapping[str, float],
    shards: int | None = None,
    shard_time: float | None = None,
) -> list[Shard]:
    """``units`` in balanced shards, by ``known`` seconds per unit (unit_durations)."""
    if shards is None and shard_time is None:
        raise HistoryError("give shards (a number of shards) or shard_time (how long each should take)")
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
    seconds = estimates(units, known, DEFAULT_UNIT_SECONDS if shard_time is not None else None).seconds
    count = shards or len(units)
    if shard_time is not None:
        count = min(count, max(1, math.ceil(sum(seconds.values()) / shard_time)))
    return longest_first(seconds, min(count, len(units)))


def longest_first(seconds: Mapping[str, float], count: int) -> list[Shard]:
    """LPT: each unit, longest first, to the shard that ends soonest; ties go by name and by index."""
    loads = [(0.0, index) for index in range(count)]
    members: list[list[str]] = [[] for _ in range(count)]
    for unit in sorted(seconds, key=lambda u: (-seconds[u], u)):
        load, index = heapq.heappop(loads)
        members[index].append(unit)
        heapq.heappush(loads, (load + seconds[unit], index))
    return [Shard(tuple(units), sum(seconds[u] for u in units)) for units in members]
