"""wetest_test as a run: plan-time rules, device checks, once per trigger, wait, gate, JUnit, cancel on destroy."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.functional.test_ci_integration import summary_runs
from tests.functional.wetest.conftest import (
    UPLOADS,
    resources_of,
    write_app,
)

PLAN = (
    UPLOADS
    + """  wetest_test.smoke:
    project: pj-demo
    app: ${wetest_app.app.fid}
    cloud_id: 1
    triggers:
      - ${wetest_app.app.md5}
    TEST_OPTIONS
"""
)

SCRIPT = "script: ${wetest_script.appium.id}"
DEVICES = "devices: [10001, 10003, 10005]"
WAIT = "wait: {timeout: 60s, poll: 0.5s}"


def write_plan(workdir, *options: str, app_version: str = "1.0") -> None:
    app = write_app(workdir, version=app_version)
    script = workdir.path / "script.zip"
    script.write_bytes(b"PK appium script")
    lines = "\n    ".join(o for option in (SCRIPT, DEVICES, *options) for o in option.split("\n") if o)
    workdir.write(PLAN.replace("APP", str(app)).replace("SCRIPT", str(script)).replace("TEST_OPTIONS", lines))


def submissions(wetest) -> int:
    return len(wetest.posts("/tests/automation"))


def submitted_id(workdir) -> str:
    return resources_of(workdir)["wetest_test.smoke"]["id"]


INVALID = [
    (
        "script missing for appium",
        "frame_type: appium",
        SCRIPT,
        "script",
        "script is required when frame_type is appium",
    ),
    ("scenarios with appium", "scenarios: 1-3", "", "scenarios", "scenarios is for frame_type game_loop only"),
    (
        "backwards scenarios",
        "frame_type: game_loop\nscenarios: 3-1",
        SCRIPT,
        "scenarios",
        "the range 3-1 runs backwards",
    ),
    (
        "device runtime over test runtime",
        "max_test_runtime: 300\nmax_device_runtime: 600",
        "",
        "max_device_runtime",
        "must not exceed max_test_runtime (300s)",
    ),
    (
        "no devices and no number",
        "",
        DEVICES,
        "device_number",
        "device_number (how many devices) or devices (which ones) is required",
    ),
    ("gate without wait", "gate: {min_pass_rate: 0.9}", "", "gate", "a gate needs 'wait'"),
    ("unknown frame type", "frame_type: espresso", "", "frame_type", "frame_type: must be 'appium' or 'game_loop'"),
    (
        "pass rate over 1",
        WAIT + "\ngate: {min_pass_rate: 1.5}",
        "",
        "gate",
        "gate.min_pass_rate: must be less than or equal to 1",
    ),
]


@pytest.mark.parametrize("options, dropped, field, message", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_an_invalid_combination_is_a_plan_error_naming_the_field(options, dropped, field, message, wetest, workdir):
    """Documented constraints fail the plan at the field's line, before anything is uploaded or submitted."""
    write_plan(workdir, options)
    if dropped:
        text = workdir.path.joinpath("main.yaml").read_text()
        workdir.write(text.replace(f"    {dropped}\n", "", 1))
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert re.search(rf"main\.yaml:\d+:\d+: wetest_test\.smoke: .*{re.escape(message)}", result.stderr), result.stderr
    line = int(re.search(r"main\.yaml:(\d+):", result.stderr).group(1))
    at = workdir.path.joinpath("main.yaml").read_text().splitlines()[line - 1].strip()
    assert at.startswith(field) or (
        at == "wetest_test.smoke:" and field in message
    )  # a missing field points at its block
    assert [r for r in wetest.app.log.all() if r.method != "GET"] == []


@pytest.mark.parametrize(
    "devices, message",
    [
        (
            "[10001, 501]",
            "501 are model ids, but device_choose_type is deviceids: mixing device ids and model ids is not allowed",
        ),
        ("[10001, 99999]", "cloud 1 has no device 99999 (data wetest_devices lists them)"),
    ],
    ids=["mixed device and model ids", "unknown device"],
)
def test_devices_are_checked_against_the_cloud_at_plan_time(devices, message, wetest, workdir):
    """Before anything is created, the plan reads the cloud's devices and rejects ids it lacks or of the other kind."""
    write_plan(workdir, WAIT)
    workdir.write(workdir.path.joinpath("main.yaml").read_text().replace("[10001, 10003, 10005]", devices))
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert f"wetest_test.smoke: {message}" in result.stderr, result.stderr
    line = int(re.search(r"main\.yaml:(\d+):", result.stderr).group(1))
    assert workdir.path.joinpath("main.yaml").read_text().splitlines()[line - 1].strip().startswith("devices:")
    assert [r for r in wetest.app.log.all() if r.method != "GET"] == []


def test_the_plan_names_the_chosen_devices(wetest, workdir):
    """With the app known, the plan note names the devices the test will run on."""
    write_plan(workdir)
    assert workdir.apply("--target", "wetest_app.app", "--target", "wetest_script.appium").exit_code == 0
    plan = workdir.plan()
    assert "# on Galaxy S23 #10001, Pixel 8 #10003, OnePlus 11 #10005" in plan.stdout


def test_a_test_is_submitted_once_per_trigger_and_the_second_plan_is_empty(running_clock, wetest, workdir):
    """Re-applying submits nothing; a new app build (a new trigger) submits one more test."""
    write_plan(workdir, WAIT)
    first = workdir.apply()
    assert first.exit_code == 0, first.output
    assert "finished, devices 3/3 finished, 3 passed" in first.stdout
    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert workdir.apply().exit_code == 0
    assert submissions(wetest) == 1

    write_plan(workdir, WAIT, app_version="2.0")
    assert "wetest_test.smoke must be replaced" in workdir.plan().stdout
    assert workdir.apply().exit_code == 0
    assert submissions(wetest) == 2


def test_a_passing_gate_and_junit_with_one_testcase_per_device(running_clock, wetest, workdir):
    """Every device passes: the gate holds and JUnit has a testcase per device with its result and case counts."""
    junit = workdir.path / "out" / "wetest.xml"
    write_plan(workdir, WAIT, "gate: {min_pass_rate: 1.0, over: cases}", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["Galaxy S23 #10001", "Pixel 8 #10003", "OnePlus 11 #10005"]
    assert all(
        re.fullmatch(r"result_code 1: passed; cases (\d+)/\1 passed, 0 failed, 0 timed out", c.findtext("system-out"))
        for c in cases
    )
    assert suite.get("tests") == "3" and suite.get("failures") == "0"
    attributes = resources_of(workdir)["wetest_test.smoke"]["attributes"]
    assert attributes["pass_rate"] == attributes["case_pass_rate"] == 1.0 and attributes["status"] == "finished"


def test_a_missed_gate_exits_1_with_the_numbers_and_keeps_the_test(half_failing, wetest, workdir):
    """Half the devices fail: the apply fails naming the rate and devices; the test is in state; re-apply submits nothing."""
    junit = workdir.path / "wetest.xml"
    write_plan(workdir, WAIT, "gate: {min_pass_rate: 0.9, over: devices}", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert re.search(
        r"missed its gate: pass rate over devices 0\.33 \(1/3 devices passed\) is below 0\.90; failing devices: .+ \(has compatibility error\)",
        result.stdout,
    ), result.stdout
    assert "wetest_test.smoke" in resources_of(workdir)
    failures = ET.parse(junit).getroot().find("testsuite").findall("testcase/failure")
    assert len(failures) == 2 and failures[0].get("message").startswith("result_code 2: has compatibility error; cases")
    again = workdir.apply()
    assert again.exit_code == 1, again.output  # red stays red: the same run is judged again, none started
    assert "missed its gate" in again.stderr and "--replace" in again.stderr  # a failing check, not a change
    assert submissions(wetest) == 1


def test_the_step_summary_counts_each_device_as_its_junit_does(half_failing, wetest, workdir, monkeypatch, tmp_path):
    """The runs table counts as the JUnit does (the run record): a case per device result, passed when its
    result_code is 1 (success); the cloud names no cases, so their counts are each device's detail."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_plan(workdir, WAIT)
    assert workdir.apply().exit_code == 0
    with wetest.api() as api:
        devices = api.get(f"/tests/{submitted_id(workdir)}/devices").json()["devices"]
    passed = sum(d["result_code"] == 1 for d in devices)
    failed = len(devices) - passed
    assert failed > 0 and len(devices) == 3
    row = summary_runs(summary)["wetest_test.smoke"]
    assert row[:3] + row[4:] == ["3", str(passed), str(failed), "—", "no gate"]


def test_wait_times_out_cleanly_and_keeps_the_test(wetest, workdir):
    """On a frozen clock the test never ends: the apply fails naming it, and records it."""
    write_plan(workdir, "wait: {timeout: 1s, poll: 0.2s}")
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert f"run {submitted_id(workdir)} did not finish within 1s (last: testing, devices 0/3 finished" in result.stdout
    assert submissions(wetest) == 1


def test_destroying_a_running_test_cancels_it(wetest, workdir):
    """Destroy while the test runs: labform cancels it, and WeTest reports it canceled."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    destroyed = workdir.run("destroy", str(workdir.path), "--auto-approve", "--target", "wetest_test.smoke")
    assert destroyed.exit_code == 0, destroyed.output
    assert "still running; cancelling it" in destroyed.stdout
    assert len(wetest.posts("/cancelation")) == 1
    status = (
        wetest.api().get(f"/tests/{wetest.posts('/cancelation')[0].path.split('/')[-2]}/status").json()["test_status"]
    )
    assert status["status"] == "canceled"


def test_a_game_loop_test_needs_no_script_and_sends_its_scenarios(wetest, workdir):
    """game_loop needs no script; its scenarios reach the cloud as the loops to run."""
    write_plan(workdir, "frame_type: game_loop", 'scenarios: "1-3, 5"')
    text = workdir.path.joinpath("main.yaml").read_text()
    workdir.write(text.replace(f"    {SCRIPT}\n", ""))
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    test = wetest.app.store.data["tests"][submitted_id(workdir)]
    assert (test["frame_type"], test["script_id"], test["scenarios"]) == ("game_loop", None, [1, 2, 3, 5])


def test_a_cloud_the_account_lacks_is_a_plan_error_at_its_line(wetest, workdir):
    """The clouds listing decides, not an error code: a cloud_id it lacks fails the plan at cloud_id."""
    write_plan(workdir, WAIT)
    workdir.write(workdir.path.joinpath("main.yaml").read_text().replace("cloud_id: 1", "cloud_id: 9"))
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert (
        "wetest_test.smoke: the account has no cloud 9 (its clouds: 1, 2; data wetest_clouds lists them)"
        in result.stderr
    )
    line = int(re.search(r"main\.yaml:(\d+):", result.stderr).group(1))
    assert workdir.path.joinpath("main.yaml").read_text().splitlines()[line - 1].strip() == "cloud_id: 9"


def test_more_devices_than_the_cloud_has_is_only_warned_of(wetest, workdir):
    """The doc sets no bound on device_number: labform warns, and leaves the choice to the cloud."""
    write_plan(workdir)
    workdir.write(workdir.path.joinpath("main.yaml").read_text().replace(DEVICES, "device_number: 40"))
    result = workdir.plan()
    assert result.exit_code == 0, result.output
    assert "device_number 40 is more than the 7 devices cloud 1 has; it may run on fewer" in result.stderr
