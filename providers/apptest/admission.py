"""What an apptest.ai testset must meet before labform starts it: its budget (minutes); no pick.

The doc caps a testset's runtime (``time_limit``, "Minutes", 5 to 30; unset,
the project's setting applies, which the API cannot read: then its maximum,
30), so a budget is in minutes. Run New Testset names no device: a testset
runs on the project's preset devices (errors 4080 / 4081), so none is picked.
"""

from __future__ import annotations

from typing import ClassVar

from labform.providers.base import Attrs, Context
from labform.providers.budget import Budget, Estimate, Unit
from labform.providers.picking import Pick

# The doc's bounds of time_limit (Min 5, Max 30 minutes): an unset one is the project's, at most this.
MOST_MINUTES = 30


class TestsetBudget(Budget):
    """In minutes: the testset's time_limit (unset: the doc's most, 30), once per attempt."""

    cloud: ClassVar[str] = "apptest"
    unit: ClassVar[Unit | None] = "minutes"
    measures: ClassVar[str] = "caps a testset's runtime in minutes (time_limit)"

    @classmethod
    def per_attempt(cls, ctx: Context, desired: Attrs) -> Estimate | str:
        limit = desired.get("time_limit") or desired.get("time_limmit")
        if not isinstance(limit, int | None):
            return "time_limit is known only after apply"
        if limit is None:
            return Estimate(MOST_MINUTES, f"time_limit unset: the project's setting, at most {MOST_MINUTES} minutes")
        return Estimate(float(limit), f"time_limit {limit} minutes")


class TestsetPick(Pick):
    """Not on apptest.ai: a testset names no device (a validate error says so)."""

    cloud: ClassVar[str] = "apptest"
    unsupported: ClassVar[str | None] = (
        "Run New Testset names no device (a testset runs on the project's preset devices), so none can be picked"
    )
