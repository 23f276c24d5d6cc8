"""A run's shards, chosen when its create is planned, from the workspace's test history.

A block asking for ``shards: N`` or ``shard_time: T`` has its type's units
(``ResourceType.shard_units``: a campaign's packages, say) split by their
recorded durations (sharding.py). The split travels in the plan as the run's
``shard_plan``, so apply starts exactly what the plan showed, and state keeps
it: an unchanged plan never splits again, whatever history has learnt since.
Durations are CI's results of the last 30 days, as every figure is by default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from labform.engine.history import sharding
from labform.engine.history.errors import HistoryError
from labform.engine.history.figures import Figures
from labform.engine.history.store import HistoryStore
from labform.providers.base import ResourceType
from labform.providers.polling import parse_duration

SHARD_PLAN = "shard_plan"  # the split, as the plan and state keep it (ShardPlan.as_json)
WINDOW = timedelta(days=30)


def with_split(desired: dict[str, Any], planned: Mapping[str, Any] | None) -> dict[str, Any]:
    """``desired`` with the split its plan made (``planned``: the change's ``after``), where it made one:
    what the cloud's checks see at plan time and its start receives at apply."""
    split = (planned or {}).get(SHARD_PLAN)
    return desired if split is None else {**desired, SHARD_PLAN: split}


class Durations:
    """Each test's figures in a state's history (its median seconds, the clouds it ran on), read
    once, and only if a plan shards."""

    def __init__(self, store: Callable[[], HistoryStore], since: datetime, include_local: bool = False):
        self.store, self.since, self.include_local = store, since, include_local
        self._figures: dict[str, Figures] | None = None

    @classmethod
    def of_state(cls, state_location: str, plan_path: Path) -> Durations:
        """The history beside a state (encrypted as the plan at ``plan_path`` says), as a plan splits
        by it: CI's results of the last 30 days."""
        from labform.engine.history import open_history

        return cls(lambda: open_history(state_location, plan_path), datetime.now(UTC) - WINDOW)

    def figures(self) -> dict[str, Figures]:
        if self._figures is None:
            store = self.store()
            self._figures = store.figures(store.workspace, self.since, self.include_local)
        return self._figures

    def medians(self) -> dict[str, float]:
        return {test: f.median_duration for test, f in self.figures().items() if f.median_duration is not None}

    def tests_on(self, cloud: str) -> list[str]:
        """The test ids recorded on ``cloud``, in order: a suite a block does not list is known by them."""
        return sorted(test for test, f in self.figures().items() if cloud in f.clouds)


def split(rtype: ResourceType, desired: Mapping[str, Any], durations: Durations, cloud: str) -> sharding.ShardPlan:
    """The block's units in balanced shards; a HistoryError when they cannot be (nothing recorded
    and no shard_time, or no unit to split)."""
    units = list(dict.fromkeys(rtype.shard_units(dict(desired), durations.tests_on(cloud))))
    if not units:
        raise HistoryError(
            f"no units to shard: the block names none, and history has no CI result on {cloud} in the last "
            "30 days to know the suite by (apply a run with junit in CI, or labform tests record; results "
            "recorded outside CI are not counted)"
        )
    known = sharding.unit_durations(units, durations.medians())
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


def check(rtype: ResourceType, desired: Mapping[str, Any], durations: Durations, cloud: str) -> str | None:
    """Why the block's shards cannot be split (for validate), or None."""
    try:
        split(rtype, desired, durations, cloud)
    except HistoryError as error:
        return str(error)
    return None
