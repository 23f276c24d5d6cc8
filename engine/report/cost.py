"""A run's cost after it ran, beside the plan's estimate: price × devices × minutes.

No cloud's API here reports the credits a run used, so labform computes them
where the cloud prices devices (Bitbar): the price is the one the plan's
estimate quotes, the credits price of the device set a run depends on, as
its resource type reads it from state (``ResourceType.credits_price``: a
minute of every device in it), and the minutes are each
device's, rounded up to whole minutes (a minute begun is billed): from the
run's record where it has one (each device's attempts' durations summed),
else the run's own duration on every device. A cloud that reports its own
figure (``RunFacts.credits``) is taken at its word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from labform.providers.run_record import RunRecord


@dataclass(frozen=True)
class RunCost:
    estimate: str | None  # what the plan said creating it costs, as its cloud put it
    credits: float | None
    basis: str  # how the credits were found, or why there are none

    def cell(self) -> str:
        """``4 (estimate ~ 4 credits …)``: the summary's credits cell; empty when neither is known."""
        used = f"{self.credits:g}" if self.credits is not None else ""
        if self.estimate:
            return f"{used or '?'} (estimate {self.estimate})"
        return used


def device_minutes(record: RunRecord) -> dict[str, int] | None:
    """Each device's billed minutes from the record, or None when some attempt has no duration."""
    seconds: dict[str, float] = {}
    for case in record.cases:
        for attempt in case.attempts:
            if attempt.duration is None:
                return None
            seconds[case.device] = seconds.get(case.device, 0.0) + attempt.duration
    return {device: max(1, math.ceil(total / 60)) for device, total in seconds.items()} or None


def run_cost(
    reported: float | None,
    price: float | None,
    devices: int | None,
    record: RunRecord | None,
    seconds: float | None,
    estimate: str | None,
) -> RunCost:
    """The credits a run used: the cloud's own figure, else price × devices × minutes."""
    if reported is not None:
        return RunCost(estimate, reported, "as the cloud reports it")
    if price is None:
        return RunCost(estimate, None, "this cloud does not price devices")
    minutes = device_minutes(record) if record is not None and record.cases else None
    if minutes is not None:
        per_device = price / len(minutes)
        used = sum(minutes.values())
        return RunCost(
            estimate,
            round(per_device * used, 2),
            f"{price:g} credits a minute for {len(minutes)} devices × {used} device-minutes "
            f"({per_device:.3g} a device-minute), from the record's durations",
        )
    if seconds is None or not devices:
        return RunCost(estimate, None, "the run's duration is unknown (apply --report records it)")
    each = max(1, math.ceil(seconds / 60))
    return RunCost(
        estimate,
        round(price * each, 2),
        f"{price:g} credits a minute for {devices} devices × {each} min each (the run's duration)",
    )
