"""A test's timeline: each device's plan fixed at submission, its state read against the clock.

Timing: a test's devices are planned at submission from ``options``; with
``D = job_duration``, device ``i`` of ``n`` waits ``0.1·D·i/n`` seconds and ends
at ``D·(i+1)/n`` (cut at ``max_device_runtime``: result 4). The test ends when
its last device does, unless cancelled first (status 2, unfinished devices 6)
or ``max_test_runtime`` passes (status 3, unfinished devices 5). Everything is
read lazily against ``options.clock``; no background task runs.

Results: ``failure_share`` of the online devices, chosen by ``seed``, end with
result 2 and failed cases; the others pass. The app and script on a device
``flaky_rate`` marks as flaky (once, kept for the emulator's life) fail each of
their runs there with probability 0.3 (result 2, cases failed), drawn from the
seed and how often they ran on that device before. An app on a cloud of the other
platform fails every case on every device: result 2, "has compatibility
error". An offline seeded device (10007) is never tested: result 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labform.providers.emulation import (
    EmulatorOptions,
    failing_positions,
    flaky_attempt_fails,
    mark_flaky,
    seeded_random,
)
from labform.providers.wetest.emulator.submission import Submission
from labform.providers.wetest.emulator.vocabulary import DeviceResult, StatusCode

# Share of the job duration over which device starts are spread (queueing).
QUEUE_SHARE = 0.1


@dataclass
class Flakiness:
    """Which app and script on which device is flaky (``marks``), and how often each ran (``runs``): the store's."""

    marks: dict[str, bool]
    runs: dict[str, int]
    share: float
    seed: int

    def failing(self, submission: Submission, device_ids: list[int]) -> set[int]:
        """The devices whose flaky run fails this time."""
        keys = {device_id: f"{submission.app_fid}|{submission.script_id}|{device_id}" for device_id in device_ids}
        mark_flaky(self.marks, keys.values(), self.share, self.seed)
        failing = set()
        for device_id, key in keys.items():
            if self.marks[key]:
                self.runs[key] = self.runs.get(key, 0) + 1
                if flaky_attempt_fails(self.seed, key, self.runs[key]):
                    failing.add(device_id)
        return failing


def _cut(test: dict[str, Any]) -> tuple[float, StatusCode]:
    """When, relative to submission, the test was stopped early, and how."""
    cut, how = float(test["max_test_runtime"]), StatusCode.TIMEOUT
    if test["canceled_at"] is not None and test["canceled_at"] - test["submitted_at"] <= cut:
        cut, how = test["canceled_at"] - test["submitted_at"], StatusCode.CANCELED
    return cut, how


def device_result_at(test: dict[str, Any], plan: dict[str, Any], elapsed: float) -> tuple[DeviceResult, float | None]:
    """A planned device's result code and end offset (None while running)."""
    cut, how = _cut(test)
    if plan["end"] <= min(elapsed, cut):
        return DeviceResult(plan["outcome"]), plan["end"]
    if cut <= elapsed:
        stopped = DeviceResult.USER_CANCELED if how == StatusCode.CANCELED else DeviceResult.SYSTEM_CANCELED
        return stopped, cut
    return DeviceResult.RUNNING, None


def status_at(test: dict[str, Any], elapsed: float) -> tuple[StatusCode, float | None]:
    natural_end = max(plan["end"] for plan in test["devices"])
    cut, how = _cut(test)
    if natural_end <= min(elapsed, cut):
        return StatusCode.FINISHED, natural_end
    if cut <= elapsed:
        return how, cut
    return StatusCode.TESTING, None


def plan_devices(
    test_id: int,
    devices: list[dict[str, Any]],
    submission: Submission,
    options: EmulatorOptions,
    compatible: bool = True,
    flaky: Flakiness | None = None,
) -> list[dict[str, Any]]:
    """Fix each device's start, end, outcome and case counts at submission time."""
    rng = seeded_random(options.seed, "wetest", test_id)
    online = [i for i, device in enumerate(devices) if device["online"]]
    failing = {online[p] for p in failing_positions(len(online), options.failure_share, rng)}
    if flaky is not None:
        flaked = flaky.failing(submission, [devices[i]["device_id"] for i in online])
        failing |= {i for i in online if devices[i]["device_id"] in flaked}
    duration, count = options.job_duration, len(devices)
    plans = []
    for index, device in enumerate(devices):
        start = duration * QUEUE_SHARE * index / count
        end = duration * (index + 1) / count
        total = len(submission.scenarios) if submission.frame_type == "game_loop" else rng.randint(3, 8)
        failed = total if not compatible else rng.randint(1, total) if index in failing else 0
        cases = {"case_total": total, "case_success": total - failed, "case_fail": failed, "case_timeout": 0}
        outcome = DeviceResult.COMPATIBILITY_ERROR if failed else DeviceResult.PASSED
        if not device["online"]:
            end, outcome = start, DeviceResult.UNTESTED
            cases = {"case_total": total, "case_success": 0, "case_fail": 0, "case_timeout": 0}
        elif end - start > submission.max_device_runtime:
            end, outcome = start + submission.max_device_runtime, DeviceResult.TIMEOUT
            cases = {"case_total": total, "case_success": 0, "case_fail": failed, "case_timeout": total - failed}
        plans.append(
            {"device_id": device["device_id"], "start": start, "end": end, "outcome": int(outcome), "cases": cases}
        )
    return plans
