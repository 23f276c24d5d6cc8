"""A run's shards, chosen when its create is planned, from the workspace's test history.

A block asking for ``shards: N`` or ``shard_time: T`` has its type's units
(``ResourceType.shard_units``: a campaign's packages, say) split by their
recorded durations (sharding.py). The split travels in the plan as the run's
``shard_plan``, so apply starts exactly what the plan showed, and state keeps
it: an unchanged plan never splits again, whatever history has learnt since.
Durations are CI's results of the last 30 days, as every figure is by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from labform.engine.history import sharding
from labform.engine.history.errors import HistoryError
from labform.providers.base import ResourceType
from labform.providers.polling import parse_duration

SHARD_PLAN = "shard_plan"  # the split, as the plan and state keep it (ShardPlan.as_json)
WINDOW = timedelta(days=30)


def requested(desired: Mapping[str, Any]) -> bool:
    return desired.get("shards") is not None or desired.get("shard_time") is not None


def field(desired: Mapping[str, Any]) -> str:
    """The argument a problem with the split is shown at."""
    return "shards" if desired.get("shards") is not None else "shard_time"


class Durations:
    """Each test's median seconds in a state's history, read once, and only if a plan shards."""

    def __init__(self, state_location: str):
        self.state_location = state_location
        self._medians: dict[str, float] | None = None

    def __call__(self) -> dict[str, float]:
        if self._medians is None:
            from labform.engine.history import open_history

            store = open_history(self.state_location)
            self._medians = store.medians(store.workspace, datetime.now(UTC) - WINDOW)
        return self._medians


def split(rtype: ResourceType, desired: Mapping[str, Any], durations: Durations) -> sharding.ShardPlan:
    """The block's units in balanced shards; a HistoryError when they cannot be (nothing recorded
    and no shard_time)."""
    units = list(dict.fromkeys(rtype.shard_units(dict(desired))))
    known = sharding.unit_durations(units, durations())
    shard_time = desired.get("shard_time")
    seconds = None if shard_time is None else parse_duration(shard_time)  # as written: 5m, or seconds
    return sharding.split(units, known, desired.get("shards"), seconds)


def summary(plan: sharding.ShardPlan) -> str:
    """One line for the plan: each shard's expected duration, and the units history did not know."""
    shards = ", ".join(
        f"{number}: ~{sharding.clock(s.expected)} ({len(s.units)})" for number, s in enumerate(plan.shards, 1)
    )
    unknown = plan.estimates.unknown
    guessed = (
        f"; {len(unknown)} unit(s) never recorded, counted as {sharding.clock(plan.estimates.guess)} each"
        if unknown
        else ""
    )
    return f"{len(plan.shards)} shards by recorded durations, expected (units): {shards}{guessed}"


def check(rtype: ResourceType, desired: Mapping[str, Any], durations: Durations) -> str | None:
    """Why the block's shards cannot be split (for validate), or None."""
    try:
        split(rtype, desired, durations)
    except HistoryError as error:
        return str(error)
    return None
