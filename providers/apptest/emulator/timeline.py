"""A testset's timeline: one test per available device, planned at creation, read against the clock.

Timing: a testset runs one test per available device of its project. With
``S = min(job_duration, time_limit·60)``, test ``i`` of ``n`` initializes until
``0.1·S`` and runs until ``S·(0.1 + 0.9·(i+1)/n)``; the testset is Complete
when the last ends. Read lazily from ``options.clock``; nothing runs in the
background. ``failure_share`` of the tests, chosen by ``seed``, end Fail; the
rest Pass.
"""

from __future__ import annotations

from typing import Any

from labform.providers.emulation import EmulatorOptions, failing_positions, seeded_random

# Share of a test's span spent initializing before it runs.
# Share of a test's span spent initializing before it runs.
INIT_SHARE = 0.1


def plan_tests(testset_id: int, devices: list[str], span: float, options: EmulatorOptions) -> list[dict[str, Any]]:
    rng = seeded_random(options.seed, "apptest", testset_id)
    failing = failing_positions(len(devices), options.failure_share, rng)
    count = len(devices)
    return [
        {
            "device": name,
            "running_from": span * INIT_SHARE,
            "end": span * (INIT_SHARE + (1 - INIT_SHARE) * (index + 1) / count),
            "outcome": "Fail" if index in failing else "Pass",
        }
        for index, name in enumerate(devices)
    ]


def phase_at(test: dict[str, Any], elapsed: float) -> str:
    if elapsed < test["running_from"]:
        return "Initializing"
    if elapsed < test["end"]:
        return "Running"
    return test["outcome"]


def status_detail(testset: dict[str, Any], elapsed: float) -> dict[str, int]:
    phases = [phase_at(test, elapsed) for test in testset["tests"]]
    return {
        "total_test_cnt": len(phases),
        # Emulated failures are all Fail and there is no stop endpoint, so no Error / stopped tests.
        "error_cnt": 0,
        "fail_cnt": phases.count("Fail"),
        "initializing_cnt": phases.count("Initializing"),
        "running_cnt": phases.count("Running"),
        "stop_cnt": 0,
        "pass_cnt": phases.count("Pass"),
    }
