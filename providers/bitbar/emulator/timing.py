"""The run clock: when each device run waits, runs and ends, and what it has done by now.

Run timing (virtual seconds on ``options.clock``, ``D = options.job_duration``):
a run is WAITING for ``0.1 * D``, then its device runs execute in the window up
to ``D`` -- all at once with the PARALLEL scheduler, one after another in equal
slots with SERIAL. Each device run passes the states WAITING, PREPARING,
DEVICE_TARGET_INSTALLING, DEVICE_TEST_INSTALLING, DEVICE_RUNNING (half of its
window; test cases finish evenly across it), RESULTS_WAITING and
RESULTS_PROCESSING. The run is FINISHED when all device runs are. Everything is
computed when read; no background task runs. Results are fixed at run start:
the test package has 4-12 test cases (fixed by ``seed`` and its package name, in
four classes of four sub-packages), every device runs those the run config's
``limitationType`` / ``limitationValue`` select (all without one),
``failure_share`` of the run's cases fail (chosen by ``seed``), and a test
``flaky_rate`` marks as flaky fails each of its runs on a device with
probability 0.3 (drawn from the seed and how often it ran there before); a
device run with a failing case is FAILED, one without is
SUCCEEDED, or WARNING with probability ``failure_share / 2``. A device run of a
run started without what its mode needs (an application; a test file) is
EXCLUDED at once, its one state naming what was missing.

An abort (the vendor client's, vendor.py) stops each device run still WAITING or
RUNNING at that moment: its states end with the one it was in, FAILED for
ABORTED_REASON, which is also its ``interruptedByState``; its runStatus is FAILED
(the doc's deviceRun knows no aborted status) and no test case finishes after it.
A retry gives a device run a new attempt: a new record in place of the old one.
"""

from __future__ import annotations

import math
from typing import Any

from labform.providers.bitbar.emulator.formats import millis

# Stages of a device run after it left the queue, with their share of its window.
STAGES = (
    ("PREPARING", 1),
    ("DEVICE_TARGET_INSTALLING", 1),
    ("DEVICE_TEST_INSTALLING", 1),
    ("DEVICE_RUNNING", 5),
    ("RESULTS_WAITING", 1),
    ("RESULTS_PROCESSING", 1),
)

TEST_CLASSES = ("login.LoginTest", "search.SearchTest", "checkout.CheckoutTest", "profile.ProfileTest")
TEST_ACTIONS = ("Opens", "Scrolls", "Submits", "Rotates", "GoesBack", "SharesLink")
FAILURE_MESSAGE = "expected:<true> but was:<false>"
FAILURE_TYPE = "junit.framework.AssertionFailedError"
ABORTED_REASON = "Aborted by the user"


def device_windows(t0: float, count: int, duration: float, scheduler: str) -> list[tuple[float, float]]:
    start, end = t0 + 0.1 * duration, t0 + duration
    if scheduler == "PARALLEL":
        return [(start, end)] * count
    slot = (end - start) / count
    return [(start + i * slot, start + (i + 1) * slot) for i in range(count)]


def planned_windows(device_run: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(deviceRunStateType, start, end) of every state as planned at the start, WAITING in the queue
    first (and only, when excluded)."""
    windows = [("WAITING", device_run["createdAt"], device_run["startAt"])]
    if device_run.get("excluded"):
        return windows
    at, span, total = device_run["startAt"], device_run["endAt"] - device_run["startAt"], sum(w for _, w in STAGES)
    for stage, weight in STAGES:
        windows.append((stage, at, at + span * weight / total))
        at += span * weight / total
    return windows


def stage_windows(device_run: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The planned windows, cut where an abort stopped the device run."""
    windows = planned_windows(device_run)
    aborted = device_run.get("abortedAt")
    if aborted is None:
        return windows
    begun = [w for index, w in enumerate(windows) if index == 0 or w[1] < aborted]
    return [(stage, start, min(end, aborted)) for stage, start, end in begun]


def ended_at(device_run: dict[str, Any]) -> float:
    aborted = device_run.get("abortedAt")
    return device_run["endAt"] if aborted is None else min(device_run["endAt"], aborted)


def outcome(device_run: dict[str, Any]) -> str:
    if device_run["failedCases"]:
        return "FAILED"
    return "WARNING" if device_run["warning"] else "SUCCEEDED"


def run_status(device_run: dict[str, Any], now: float) -> str:
    if device_run.get("excluded"):
        return "EXCLUDED"
    if device_run.get("abortedAt") is not None:
        return "FAILED"
    if now < device_run["startAt"]:
        return "WAITING"
    return "RUNNING" if now < device_run["endAt"] else outcome(device_run)


def testing_window(device_run: dict[str, Any]) -> tuple[float, float]:
    """When DEVICE_RUNNING runs; an excluded device run never tests (an empty window at its start)."""
    never = ("", device_run["startAt"], device_run["startAt"])
    _, start, end = next((w for w in planned_windows(device_run) if w[0] == "DEVICE_RUNNING"), never)
    return start, end


def test_case(package: str, index: int) -> tuple[str, str]:
    """(className, name) of the test package's case ``index``."""
    return (
        f"{package}.{TEST_CLASSES[index % len(TEST_CLASSES)]}",
        f"test{index + 1:02d}{TEST_ACTIONS[index % len(TEST_ACTIONS)]}",
    )


def selected(config: dict[str, Any], class_name: str) -> bool:
    """Whether the run config's limitation (the doc's PACKAGE or CLASS, by its name) runs this class."""
    value = config.get("limitationValue") or ""
    if config.get("limitationType") == "CLASS":
        return class_name == value
    if config.get("limitationType") == "PACKAGE":
        return class_name.startswith(value.rstrip(".") + ".")
    return True


def finished_cases(device_run: dict[str, Any], package: str, now: float) -> list[dict[str, Any]]:
    """The test cases done by ``now`` (and before an abort); they finish evenly across DEVICE_RUNNING."""
    start, end = testing_window(device_run)
    now = min(now, ended_at(device_run))
    indices = device_run["cases"]
    count = len(indices)
    if not count:
        return []
    done = count if now >= end else max(0, math.floor(count * (now - start) / (end - start)))
    each = (end - start) / count
    return [
        {
            "index": i,
            "className": test_case(package, i)[0],
            "name": test_case(package, i)[1],
            "failed": i in device_run["failedCases"],
            "time": round(each, 3),
            "finishedAt": start + each * (position + 1),
        }
        for position, i in enumerate(indices[:done])
    ]


def state_objects(device_run: dict[str, Any], now: float) -> list[dict[str, Any]]:
    excluded = device_run.get("excluded")
    aborted = device_run.get("abortedAt") is not None
    failed = not aborted and outcome(device_run) == "FAILED"
    reason = excluded or f"{len(device_run['failedCases'])} of {device_run['caseCount']} test cases failed"
    states = []
    for index, (stage, start, end) in enumerate(stage_windows(device_run)):
        if start > now:
            break
        done = end <= now
        marks_failure = failed and stage in ("DEVICE_RUNNING", "RESULTS_PROCESSING")
        states.append(
            {
                "id": device_run["id"] * 10 + index,  # derived, so states need no storage
                "deviceRunId": device_run["id"],
                "startTimeMS": millis(start),
                "finishTimeMS": millis(end) if done else None,
                "retryTime": None,
                "failReason": reason if done and (marks_failure or excluded) else None,
                "status": "EXCLUDED"
                if excluded
                else ("FAILED" if marks_failure else "SUCCEEDED")
                if done
                else "STARTED",
                "deviceRunStateType": stage,
            }
        )
    if aborted and states:  # the state the abort interrupted
        states[-1] |= {"status": "FAILED", "failReason": ABORTED_REASON}
    return states


def interrupting_state(device_run: dict[str, Any], states: list[dict[str, Any]]) -> dict[str, Any] | None:
    """deviceRun.interruptedByState: the state an abort stopped, else null."""
    return states[-1] if device_run.get("abortedAt") is not None and states else None
