"""A test's results as the doc shows them: device errors, performance samples, the result statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labform.providers.emulation import seeded_random, virtual_datetime
from labform.providers.wetest.emulator.timeline import device_result_at
from labform.providers.wetest.emulator.vocabulary import DeviceResult

Stamp = Callable[[float | None], str | None]


def device_errors(code: DeviceResult, at: float, stamp: Stamp) -> list[dict[str, Any]]:
    described = {
        DeviceResult.COMPATIBILITY_ERROR: ("AssertionError in test case", "test case failed"),
        DeviceResult.UNTESTED: ("device not reachable", "device exception, not tested"),
        DeviceResult.TIMEOUT: ("device runtime exceeded max_device_runtime", "device timeout"),
        DeviceResult.SYSTEM_CANCELED: ("test runtime exceeded max_test_runtime", "canceled by system"),
        DeviceResult.USER_CANCELED: ("test canceled", "canceled by user"),
    }
    if code not in described:
        return []
    content, description = described[code]
    return [{"content": content, "description": description, "error_time": stamp(at), "level": "error"}]


def perf_samples(
    seed: int, test: dict[str, Any], plan: dict[str, Any], until: float, ios: bool
) -> list[dict[str, Any]]:
    """One sample per interval of the device's run so far; at most 120 of them."""
    run = until - plan["start"]
    if run <= 0:
        return []
    interval = max(5.0, (test["max_device_runtime"]) / 120)
    rng = seeded_random(seed, "wetest-perf", test["test_id"], plan["device_id"])
    samples = []
    for n in range(1, int(run // interval) + 1):
        memory = rng.randint(150, 400)
        samples.append(
            {
                "cpu_app": round(rng.uniform(2, 40), 2),
                "cpu_total": round(rng.uniform(10, 80), 2),
                "fps": rng.randint(24, 60),
                "ios_memory": memory if ios else 0,
                "label": "",
                "mem_native_pss": 0 if ios else memory // 3,
                "mem_pss": 0 if ios else memory,
                "net_in": rng.randint(0, 500),
                "net_out": rng.randint(0, 120),
                "timestamp": int(virtual_datetime(test["submitted_at"] + plan["start"] + n * interval).timestamp()),
            }
        )
    return samples


def result_stat(test: dict[str, Any], elapsed: float, stamp: Stamp, percent: bool) -> dict[str, Any]:
    """The device-dimension summary; unknown times are None (the caller writes them as the variant does)."""
    codes = [device_result_at(test, plan, elapsed)[0] for plan in test["devices"]]
    started = [plan["start"] for plan in test["devices"] if plan["start"] <= elapsed]
    waits = [int(min(plan["start"], elapsed)) for plan in test["devices"]]
    total = len(codes)
    passed = codes.count(DeviceResult.PASSED)
    running = codes.count(DeviceResult.RUNNING)
    exceptions = total - passed - running
    submitted = test["submitted_at"]
    scale = 100 if percent else 1
    return {
        "total_device_number": total,
        "pass_device_number": passed,
        "exception_device_number": exceptions,
        "in_process_device_number": running,
        # "fist" is the doc's spelling (line 550); clients read this key.
        "fist_start_device_time": stamp(submitted + min(started)) if started else None,
        "max_wait_time": max(waits),
        "min_wait_time": min(waits),
        "last_start_device_time": stamp(submitted + max(started)) if started else None,
        "pass_rate": round(scale * passed / total, 4),
        "exception_rate": round(scale * exceptions / total, 4),
    }
