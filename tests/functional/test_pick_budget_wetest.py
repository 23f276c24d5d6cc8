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
        app = api.post(
            "/platform/upload/storage",
            params={"project": "pj-demo", "name": "other.apk"},
            files={"data": ("other.apk", b"PK other")},
        ).json()["data"]["fid"]
        body = {
            "project": "pj-demo",
            "app_hash_id": app,
            "frame_type": "game_loop",
            "cloud_id": 1,
            "device_number": len(devices),
            "devices": list(devices),
        }
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
    assert recorded["picked"] == {
        "chosen": [10003, 10002],
        "skipped": {"10007": "device_state offline", "10001": f"running test {busy}"},
    }


def test_an_unchanged_plan_does_not_pick_again(wetest, workdir):
    """The picked devices are now busy with the test itself: picking again would choose others, so a
    plan that picked again could not be unchanged."""
    write_plan(workdir, "pick: {count: 2, from: [10001, 10002, 10003]}")
    assert workdir.apply().exit_code == 0
    first = state_of(workdir)["resources"]["wetest_test.smoke"]["attributes"]
    plan = workdir.plan("-detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "picks" not in plan.stdout
    assert workdir.apply().exit_code == 0
    assert len(wetest.posts("/tests/automation")) == 1
    assert state_of(workdir)["resources"]["wetest_test.smoke"]["attributes"]["devices"] == first["devices"]


def test_a_cel_filter_over_the_device_objects_is_the_pool(wetest, workdir):
    """from: the ids a CEL expression keeps of the cloud's device objects (data wetest_devices)."""
    occupy(wetest, 10005)
    write_plan(
        workdir,
        "pick:",
        "  count: 2",
        """  from: '${data.wetest_devices.all.devices.filter(d, d.version == "13").map(d, d.id)}'""",
        extra="data:\n  wetest_devices.all: {cloud_id: 1}\n",
    )
    plan = workdir.plan()
    assert plan.exit_code == 0, plan.stderr
    assert (
        "from a pool of 3 available now: Redmi Note 12 #10004, OnePlus 11 #10006; skipped: OnePlus 11 #10005"
        in plan.stdout
    )
    assert workdir.apply().exit_code == 0
    assert devices_of(wetest, state_of(workdir)["resources"]["wetest_test.smoke"]["attributes"]["id"]) == [10004, 10006]


def test_the_states_that_mean_free_can_be_named(wetest, workdir):
    """The doc does not list device_state's words: a plan may name those its cloud uses."""
    write_plan(workdir, "pick: {count: 2, from: [10007, 10003], states: [idle, offline]}")
    plan = workdir.plan()
    assert plan.exit_code == 0, plan.stderr
    assert "picks 2 of 2 from a pool of 2 available now: P30 #10007, Pixel 8 #10003" in plan.stdout


def test_free_devices_beyond_the_count_are_named_as_not_needed(wetest, workdir):
    write_plan(workdir, "pick: {count: 1, from: [10004, 10003]}")
    plan = workdir.plan()
    assert (
        "picks 1 of 1 from a pool of 2 available now: Redmi Note 12 #10004; not needed: Pixel 8 #10003" in plan.stdout
    )


INVALID = [
    (
        "count over the listed pool",
        ["pick: {count: 3, from: [10001, 10002]}"],
        "pick",
        "pick.count 3 is larger than the pool: 'from' lists 2 devices",
    ),
    (
        "count over the cloud",
        ["pick:", "  count: 8"],
        "count: 8",
        "pick.count 8 is larger than the pool: the cloud has 7 devices",
    ),
    (
        "too few free now",
        ["pick: {count: 2, from: [10007, 10001, 10002]}"],
        "pick",
        "only 1 of the 2 devices to pick are free now",
    ),
    ("an id the cloud lacks", ["pick: {count: 1, from: [10001, 99999]}"], "pick", "the cloud has no device 99999"),
    (
        "pick and devices",
        ["pick: {count: 1}", "devices: [10001]"],
        "devices",
        "devices cannot be set with pick (pick chooses the devices)",
    ),
    (
        "preferred outside the pool",
        ["pick: {count: 1, from: [10001], prefer: [10003]}"],
        "pick",
        "prefer names 10003, which 'from' does not list",
    ),
    (
        "budget over the runtime cap",
        ["devices: [10003]", "max_test_runtime: 1800", "budget: {max_minutes: 20}"],
        "budget",
        "estimated at most 30 minutes, over the budget of 20 minutes: max_test_runtime 1800s",
    ),
    (
        "budget over the doc's default cap",
        ["devices: [10003]", "budget: {max_minutes: 29}"],
        "budget",
        "over the budget of 29 minutes: max_test_runtime 1800s (the doc's default)",
    ),
    (
        "budget in credits",
        ["devices: [10003]", "budget: {max_credits: 20}"],
        "budget",
        "wetest budgets are in minutes (caps a test's runtime in seconds (max_test_runtime), counted here in minutes): "
        "write max_minutes, not max_credits",
    ),
]


@pytest.mark.parametrize("options, at, message", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_a_pick_or_budget_that_cannot_hold_fails_the_plan_at_its_line(options, at, message, wetest, workdir):
    occupy(wetest, 10001)
    write_plan(workdir, *options)
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None, result.stdout
    assert re.search(rf"main\.yaml:\d+:\d+: wetest_test\.smoke: .*{re.escape(message)}", result.stderr), result.stderr
    assert error_line(workdir, result.stderr).startswith(at)
    assert len(wetest.posts("/tests/automation")) == 1  # only the occupying test
    assert wetest.posts("/platform/upload/storage") == wetest.posts("/platform/upload/storage")[:1]  # nothing uploaded


def test_a_budget_the_estimate_is_within_is_shown_in_the_plan(wetest, workdir):
    write_plan(
        workdir, "devices: [10003]", "max_test_runtime: 600", "max_device_runtime: 600", "budget: {max_minutes: 15}"
    )
    plan = workdir.plan()
    assert plan.exit_code == 0, plan.stderr
    assert "budget: at most 10 minutes of 15 minutes (max_test_runtime 600s)" in plan.stdout


def test_the_submit_picks_again_and_starts_nothing_when_too_few_are_free_by_then(wetest, workdir):
    """A saved plan picked 10001 and 10002; one was taken before apply: the submit picks by the same
    rule, finds one free device of the two it needs, and submits nothing."""
    write_plan(workdir, "pick: {count: 2, from: [10001, 10002, 10007]}")
    saved = workdir.path / "saved.plan"
    plan = workdir.run("plan", str(workdir.path), "-out", str(saved))
    assert plan.exit_code == 0, plan.stderr
    assert "picks 2 of 2 from a pool of 3 available now: Galaxy S23 #10001, Galaxy S23 #10002" in plan.stdout
    busy = occupy(wetest, 10002)
    applied = workdir.run("apply", str(saved))
    assert applied.exit_code == 1 and applied.exception is None
    assert "only 1 of the 2 devices to pick are free now" in applied.stderr
    assert f"Galaxy S23 #10002 (running test {busy})" in applied.stderr
    assert "nothing was started" in applied.stderr
    assert len(wetest.posts("/tests/automation")) == 1  # only the occupying test
    assert "wetest_test.smoke" not in state_of(workdir)["resources"]
