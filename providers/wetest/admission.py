"""What a WeTest test must meet before labform submits it: its pick of free devices, its budget in minutes.

Get Devices reports each device's ``device_state`` ("device state") and
``test_id`` ("current test ID"), so a device can be picked by being free now:
one running no test whose state is among ``pick.states``. The doc does not list
the states' words; the default, ``idle``, is the word the sandbox uses, and a
plan names the cloud's own words where they differ.

WeTest prices nothing but caps a test's runtime (``max_test_runtime``, "the
time out period of the entire test", 1800 seconds by default), so a budget is
in minutes: that cap, once per attempt.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from labform.providers.base import Attrs, Context
from labform.providers.budget import Budget, Estimate, Unit
from labform.providers.picking import Candidate, Pick
from labform.providers.wetest.client import client_of as _client

# The state the sandbox calls free; a plan names its cloud's own words in pick.states.
FREE_STATES = ["idle"]

# The doc's default for a test's max_test_runtime, in seconds (runs.py sends it when the plan sets none).
DEFAULT_TEST_RUNTIME = 1800


class TestPick(Pick):
    """The first count devices of the pool running no test, whose device_state is one of states."""

    cloud: ClassVar[str] = "wetest"
    needs: ClassVar[tuple[str, ...]] = ("cloud_id",)

    states: list[str] = Field(
        default_factory=lambda: list(FREE_STATES),
        min_length=1,
        description="device_state words that mean free (the doc does not list them; the sandbox says idle).",
    )

    @classmethod
    def candidates(cls, ctx: Context, desired: Attrs) -> list[Candidate]:
        free = cls.model_validate(desired["pick"]).states
        return [
            Candidate(d["device_id"], f"{d.get('model', '')} #{d['device_id']}", _busy(d, free))
            for d in _client(ctx).devices(desired["cloud_id"])
        ]


def _busy(device: dict, free: list[str]) -> str | None:
    """Why the device is not free now (None: it is): a current test, or a state not among ``free``."""
    if device.get("test_id"):
        return f"running test {device['test_id']}"
    state = str(device.get("device_state", ""))
    return None if state in free else f"device_state {state or 'not given'}"


class TestBudget(Budget):
    """In minutes: the test's max_test_runtime (1800s unset, the doc's default), once per attempt."""

    cloud: ClassVar[str] = "wetest"
    unit: ClassVar[Unit | None] = "minutes"
    measures: ClassVar[str] = "caps a test's runtime in seconds (max_test_runtime), counted here in minutes"

    @classmethod
    def per_attempt(cls, ctx: Context, desired: Attrs) -> Estimate | str:
        seconds = desired.get("max_test_runtime") or DEFAULT_TEST_RUNTIME
        if not isinstance(seconds, int):
            return "max_test_runtime is known only after apply"
        said = "" if desired.get("max_test_runtime") else " (the doc's default)"
        return Estimate(seconds / 60, f"max_test_runtime {seconds}s{said}")
