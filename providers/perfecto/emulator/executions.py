"""Made-up test executions and their commands, shaped like the doc's schema and example (lines 164-292, 307-385).

Everything follows from the arguments and the seed, so a test can predict
what it reads. Times are virtual (the kit's clock) in ms since the epoch.
"""

from __future__ import annotations

from typing import Any

from labform.providers.emulation import failing_positions, seeded_random, virtual_datetime

Resource = dict[str, Any]
# Downloads are not served; their links use a reserved host.
DOWNLOADS = "https://perfecto.emulator.invalid/download"
# (model, manufacturer, os, osVersion, screenResolution, location, firmware)
DEVICES = (
    ("Galaxy S22", "Samsung", "ANDROID", "13", "1080x2340", "US-BOS", "r0quew-user 13 TP1A.220624.014 release-keys"),
    ("Pixel 7", "Google", "ANDROID", "14", "1080x2400", "EU Frankfurt", "panther-user 14 UQ1A.240105.004 release-keys"),
    ("iPhone 14", "Apple", "IOS", "17.2", "1170x2532", "US East", "21C62"),
)
TESTS = ("Login", "Search", "Add to cart", "Checkout")
TEST_SECONDS = 95


def virtual_ms(seconds: float) -> int:
    return int(virtual_datetime(seconds).timestamp() * 1000)


def _platform(index: int, device_id: str) -> dict[str, Any]:
    """A lab device with every key of the doc's example and schema for a MOBILE one (lines 176-192, 292)."""
    number = index % len(DEVICES)
    model, manufacturer, os, version, resolution, location, firmware = DEVICES[number]
    platform_name = "Android" if os == "ANDROID" else "iOS"
    return {
        "deviceId": device_id,
        "deviceType": "MOBILE",
        "os": os,
        "osVersion": version,
        "screenResolution": resolution,
        "location": location,
        "mobileInfo": {
            "imei": f"35000000000000{number}",
            "imsi": f"31041000000000{number}",
            "manufacturer": manufacturer,
            "model": model,
            "phoneNumber": f"+1 (555) 010-000{number}",
            "distributor": "Perfecto",
            "description": f"{model} of the emulator's lab",
            "firmware": firmware,
            "operator": "AT&T",
            "operatorCountry": "United States",
            "hasAudio": False,
        },
        # The deprecated map and its successor's list, the same capabilities asked for (292).
        "selectionCriteria": {"platformName": platform_name},
        "selectionCriteriaV2": [{"name": "platformName", "value": platform_name}],
        "customFields": [],
    }


def make_executions(
    count: int,
    *,
    job_name: str,
    job_number: int,
    started: float,
    seed: int,
    failure_share: float = 0.0,
    blocked_share: float = 0.0,
    job_branch: str = "main",
    project: tuple[str, str] = ("Shop app", "2.3"),
    tags: tuple[str, ...] = ("ci",),
    trigger_type: str = "CI/CD",
    owner: str = "ci-bot@example.com",
) -> list[Resource]:
    """``count`` executions of one CI build: the tests in turn on each device, a minute apart from ``started`` (virtual s)."""
    rng = seeded_random(seed, job_name, job_number)
    failed = failing_positions(count, failure_share, rng)
    blocked = failing_positions(count, blocked_share, rng) - failed
    executions = []
    for index in range(count):
        test_id = f"{rng.getrandbits(96):024x}"
        start = virtual_ms(started + 60 * index)
        status = "FAILED" if index in failed else "BLOCKED" if index in blocked else "PASSED"
        resource: Resource = {
            "id": test_id,
            "externalId": f"{owner}_{job_name}_{job_number}_{index}",
            "name": TESTS[(index // len(DEVICES)) % len(TESTS)],
            "owner": owner,
            "startTime": start,
            "endTime": start + TEST_SECONDS * 1000,
            "uxDuration": TEST_SECONDS * 1000 - 1500,
            "status": status,
            "job": {"name": job_name, "number": job_number, "branch": job_branch},
            "project": {"name": project[0], "version": project[1]},
            "platforms": [_platform(index, f"DEV{index % len(DEVICES):04d}")],
            "videos": [
                {
                    "startTime": start,
                    "endTime": start + TEST_SECONDS * 1000,
                    "format": "MP4",
                    "downloadUrl": f"{DOWNLOADS}/video/{test_id}.mp4",
                    "screen": {"width": 1080, "height": 1920},
                }
            ],
            "tags": list(tags),
            "executionEngine": {"version": "24.1"},
            "artifacts": [
                {
                    "type": "DEVICE_LOGS",
                    "path": f"{DOWNLOADS}/logs/{test_id}.zip",
                    "contentType": "application/zip",
                    "fileName": "device.log",
                    "zipped": True,
                }
            ],
            "triggerType": trigger_type,
            "customFields": [],
            "automationFramework": "APPIUM",
            "parameters": [],
        }
        if status == "FAILED":
            resource.update(message="Element not found: id=checkout-button", failureReasonName="Element not found")
        elif status == "BLOCKED":
            resource.update(message="Device not available", failureReasonName="Device in use")
        executions.append(resource)
    return executions


def commands_of(resource: Resource) -> list[Resource]:
    """Two test steps in execution order; a failed test's last command fails with its message."""
    start, failed = resource["startTime"], resource.get("status") == "FAILED"

    def command(name: str, offset: int, status: str = "SUCCESS", **extra: Any) -> Resource:
        return {
            "name": name,
            "status": status,
            "startTime": start + offset,
            "endTime": start + offset + 900,
            "uxDuration": 850,
            **extra,
        }

    expected = [{"type": "TEXT", "value": "Order placed"}]
    last = (
        command(
            "Assert text",
            6000,
            "FAILURE",
            message=resource.get("message"),
            screenshots=[f"{DOWNLOADS}/image/{resource['id']}.png"],
            expectedData=expected,
            resultData=[{"type": "TEXT", "value": "Cart"}],
        )
        if failed
        else command("Assert text", 6000, expectedData=expected, resultData=expected)
    )
    locator = [{"name": "by", "value": "id=checkout-button"}]
    return [
        {
            "testExecutionId": resource["id"],
            "name": "Open app",
            "startTime": start,
            "endTime": start + 3000,
            "commands": [command("Launch application", 0), command("Find element", 1000, parameters=locator)],
        },
        {
            "testExecutionId": resource["id"],
            "name": resource.get("name"),
            "startTime": start + 4000,
            "endTime": start + 7000,
            "commands": [command("Click element", 4000, parameters=locator), last],
        },
    ]
