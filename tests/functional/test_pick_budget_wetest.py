"""pick and budget on wetest_test, over real HTTP against the WeTest emulator: the plan shows the
devices it picks and why it skips the others, the test is submitted to free ones only, the pick is
kept in state, and a pick or a budget that cannot be met fails the plan at its field's line."""

from __future__ import annotations

import re

import pytest

from tests.conftest import state_of
from tests.functional.wetest.conftest import UPLOADS, write_app

PLAN = (
    UPLOADS
    + """  wetest_test.smoke:
    project: pj-demo
    app: ${wetest_app.app.fid}
    script: ${wetest_script.appium.id}
    cloud_id: 1
    triggers: [one]
    OPTIONS
"""
)
# cloud 1: 10001, 10002 Galaxy S23; 10003 Pixel 8; 10004 Redmi Note 12; 10005, 10006 OnePlus 11; 10007 P30 (offline)


def write_plan(workdir, *options: str, extra: str = "") -> None:
    app = write_app(workdir)
    script = workdir.path / "script.zip"
    script.write_bytes(b"PK appium script")
    text = PLAN.replace("APP", str(app)).replace("SCRIPT", str(script)).replace("OPTIONS", "\n    ".join(options))
    workdir.write(text + extra)


def occupy(wetest, *devices: int) -> int:
    """A test of someone else's, running on ``devices`` (the emulator's clock stands still: it never ends)."""
    with wetest.api() as api:
        app = api.post("/platform/upload/storage", params={"project": "pj-demo", "name": "other.apk"},
                       files={"data": ("other.apk", b"PK other")}).json()["data"]["fid"]
        body = {"project": "pj-demo", "app_hash_id": app, "frame_type": "game_loop", "cloud_id": 1,
                "device_number": len(devices), "devices": list(devices)}
        answer = api.post("/tests/automation", json=body).json()
    return answer["test_info"]["test_id"]


def devices_of(wetest, test_id) -> list[int]:
    """The devices the cloud runs the test on, as its API says."""
    with wetest.api() as api:
        return sorted(d["device_id"] for d in api.get(f"/tests/{test_id}/devices").json()["devices"])


def error_line(workdir, stderr: str) -> str:
    line = int(re.search(r"main\.yaml:(\d+):\d+:", stderr).group(1))
    return workdir.path.joinpath("main.yaml").read_text().splitlines()[line - 1].strip()


def test_the_plan_shows_the_pick_and_the_test_runs_on_the_free_devices_only(wetest, workdir):
    busy = occupy(wetest, 10001)
    write_plan(workdir, "pick: {count: 2, from: [10007, 10001, 10002, 10003], prefer: [10003]}")
    plan = workdir.plan()
    assert plan.exit_code == 0, plan.stderr
    assert (
        "picks 2 of 2 from a pool of 4 available now: Pixel 8 #10003, Galaxy S23 #10002; "
        f"skipped: P30 #10007 (device_state offline), Galaxy S23 #10001 (running test {busy})"
    ) in plan.stdout
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.stderr
    recorded = state_of(workdir)["resources"]["wetest_test.smoke"]["attributes"]
    assert devices_of(wetest, recorded["id"]) == [10002, 10003]
    assert sorted(recorded["devices"]) == [10002, 10003]
    assert recorded["picked"] == {"chosen": [10003, 10002], "skipped": {"10007": "device_state offline", "10001": f"running test {busy}"}}
