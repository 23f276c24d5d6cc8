"""kyaraben campaigns as runs: started once per triggers, waited on with progress, gated on
test statuses, written as JUnit; never started twice, even when an apply dies while waiting."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from tests.functional.kyaraben.conftest import WAIT, resources_of, write_lab
from tests.functional.test_ci_integration import summary_runs


def campaign_starts(kyaraben) -> int:
    return len([r for r in kyaraben.app.log.matching("POST") if r.path.endswith("/campaigns")])


def campaign_of(kyaraben, workdir) -> dict:
    item = resources_of(workdir)["kyaraben_campaign.smoke"]
    return kyaraben.api().get(f"/projects/{item['attributes']['project']}/campaigns/{item['id']}").json()["campaign"]


def set_speed(clock, speed: float) -> None:
    """Change how fast virtual time runs from now on, without moving it."""
    now = clock.now()
    clock.speed = speed
    clock.advance(now - clock.now())


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_campaign_is_waited_on_gated_and_written_as_junit_once(running_clock, kyaraben, workdir):
    junit = workdir.path / "out" / "smoke.xml"
    write_lab(workdir, f"{WAIT}\ngate: {{max_failed: 0}}\njunit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert re.search(r"run \w+: RUNNING, \d+%, tests 0/2 finished, 0 failed", result.output)
    assert re.search(r"run \w+: READY, 100%, tests 2/2 finished, 0 failed", result.output)
    attrs = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]
    assert (attrs["status"], attrs["progress"]) == ("READY", 1.0)
    assert re.fullmatch(r"labform-[0-9a-f]{12}", attrs["campaign_name"])
    assert [r["status"] for r in attrs["results"]] == ["READY", "READY"]

    suites = ET.parse(junit).getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["#1 kitkat-tablet", "#2 lollipop-phone"]
    cases = [c for s in suites for c in s.findall("testcase")]
    assert [(c.get("classname"), c.get("name")) for c in cases] == 2 * [
        ("com.zenika.aic.dsl.checkout.test", "Scenario1"),
        ("com.zenika.aic.dsl.checkout.test", "Scenario2"),
    ]
    assert all(c.find("system-out").text.endswith("OK (2 tests)\nINSTRUMENTATION_CODE: -1") for c in cases)
    assert all(s.get("failures") == "0" for s in suites)

    assert workdir.apply().exit_code == 0
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    assert campaign_starts(kyaraben) == 1


def test_a_missed_gate_fails_the_apply_names_the_tests_and_keeps_the_campaign(half_failing, kyaraben, workdir):
    junit = workdir.path / "smoke.xml"
    write_lab(workdir, f"{WAIT}\ngate: {{max_failed: 0}}\njunit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 1
    assert re.search(
        r"missed its gate: 1 of 2 tests failed \(max_failed 0\): #\d \w+-\w+ com\.zenika", result.output
    ), result.output
    assert "kyaraben_campaign.smoke" in resources_of(workdir)
    failures = [c for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None]
    assert len(failures) == 1 and "FAILURES!!!" in failures[0].find("failure").text
    again = workdir.apply()
    assert again.exit_code == 1 and "missed its gate" in again.output  # red stays red
    assert campaign_starts(kyaraben) == 1


def test_the_step_summary_counts_a_device_per_test(half_failing, kyaraben, workdir, monkeypatch, tmp_path):
    """The runs table: each test runs on a VM of its own (a device); its test cases, as its stdout reports
    them (two scenarios each; the failing test's first one FAILED), are the passed and failed counts."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_lab(workdir, WAIT)
    assert workdir.apply().exit_code == 0
    statuses = [t["status"] for t in campaign_of(kyaraben, workdir)["tests"]]
    assert sorted(statuses) == ["ERROR", "READY"]
    row = summary_runs(summary)["kyaraben_campaign.smoke"]
    assert row[:3] + row[4:] == ["2", "3", "1", "—", "no gate"]


def test_a_wait_that_times_out_records_the_campaign_and_the_next_apply_waits_again(running_clock, kyaraben, workdir):
    write_lab(workdir, "wait: {timeout: 0.3s, poll: 0.1s}")
    result = workdir.apply()
    assert result.exit_code == 1
    campaign = resources_of(workdir)["kyaraben_campaign.smoke"]["id"]
    assert re.search(rf"run {campaign} did not finish within 0s \(last: (QUEUED|RUNNING)", result.output), result.output
    write_lab(workdir, WAIT)
    again = workdir.apply()
    assert again.exit_code == 0, again.output
    assert resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]["status"] == "READY"
    assert campaign_starts(kyaraben) == 1


def test_new_triggers_start_a_new_campaign_and_the_old_one_stays(running_clock, kyaraben, workdir):
    write_lab(workdir, WAIT)
    assert workdir.apply().exit_code == 0
    first = campaign_of(kyaraben, workdir)
    write_lab(workdir, WAIT, app_version="2.0")
    assert "kyaraben_campaign.smoke must be replaced" in workdir.plan().stdout
    assert workdir.apply().exit_code == 0
    second = campaign_of(kyaraben, workdir)
    assert second["campaign_id"] != first["campaign_id"] and second["campaign_name"] != first["campaign_name"]
    project = resources_of(workdir)["kyaraben_project.lab"]["id"]
    assert kyaraben.api().get(f"/projects/{project}/campaigns/{first['campaign_id']}").status_code == 200
    assert campaign_starts(kyaraben) == 2


def test_a_campaign_name_given_is_used(running_clock, kyaraben, workdir):
    write_lab(workdir, f"campaign_name: nightly\n{WAIT}")
    assert workdir.apply().exit_code == 0
    assert campaign_of(kyaraben, workdir)["campaign_name"] == "nightly"


def apply_in_a_process(workdir) -> subprocess.Popen:
    """labform in a process of its own, so the test can kill it mid-wait."""
    return subprocess.Popen(
        [sys.executable, "-m", "labform.engine", "apply", str(workdir.path), "--auto-approve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )


def test_an_apply_killed_while_waiting_does_not_start_the_campaign_again(running_clock, kyaraben, workdir):
    """SIGKILL while the campaign runs: it was recorded when kyaraben gave its id, so the next
    apply waits on it instead of starting a twin."""
    write_lab(workdir, WAIT)
    process = apply_in_a_process(workdir)
    try:
        wait_until(lambda: campaign_starts(kyaraben) == 1)
        set_speed(kyaraben.app.clock, 0)  # the campaign cannot finish while the apply is killed
        # Its first progress read comes after the record: the apply is now waiting.
        wait_until(lambda: any(re.search(r"/campaigns/\w+$", r.path) for r in kyaraben.app.log.matching("GET")))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        process.kill()
    assert "kyaraben_campaign.smoke" in workdir.run("state", "list", str(workdir.path)).stdout
    set_speed(kyaraben.app.clock, 1)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert "kyaraben_campaign.smoke: Modifying..." in result.output
    assert campaign_starts(kyaraben) == 1
    assert resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]["status"] == "READY"


def test_an_apply_whose_wait_fails_records_the_campaign_and_the_next_does_not_start_it(
    running_clock, kyaraben, workdir
):
    """The cloud stops answering while the campaign runs: failed reads are read again until the
    wait's timeout, then the apply fails naming the last error; the campaign is in state."""
    write_lab(workdir, "wait: {timeout: 8s, poll: 0.2s}")
    process = apply_in_a_process(workdir)
    try:
        wait_until(lambda: campaign_starts(kyaraben) == 1)
        set_speed(kyaraben.app.clock, 0)
        kyaraben.app.options.failure_kinds, kyaraben.app.options.retry_after = ("429",), 0
        kyaraben.app.options.failure_rate = 1.0
        output = process.communicate(timeout=60)[0].decode()
    finally:
        process.kill()
    assert process.returncode == 1
    assert "kyaraben: read campaign failed (429): injected fault" in output, output
    assert "kyaraben_campaign.smoke" in resources_of(workdir)
    kyaraben.app.options.failure_rate = 0.0
    set_speed(kyaraben.app.clock, 1)
    assert workdir.apply().exit_code == 0
    assert campaign_starts(kyaraben) == 1


def test_campaign_vms_over_the_campaign_quota_fail_the_plan_before_any_change(kyaraben, workdir):
    kyaraben.set_quota(vm_async_max=1)
    write_lab(workdir, WAIT)
    result = workdir.plan()
    assert result.exit_code == 1
    assert (
        "kyaraben_campaign.smoke: quota: this plan's campaigns need 2 concurrent VMs and 0 run already; 2 is more than vm_async_max 1"
        in result.stderr
    )
    assert kyaraben.writes() == []


def test_a_test_image_the_cloud_lacks_is_a_plan_error_naming_the_test(kyaraben, workdir):
    write_lab(workdir, WAIT, replace={"      - image: kitkat-tablet": "      - image: kitkat-watch"})
    result = workdir.plan()
    assert result.exit_code == 1
    assert re.search(
        r"main\.yaml:\d+:5: kyaraben_campaign\.smoke: tests\[0\]\.image: 'kitkat-watch' is not an image kyaraben offers",
        result.stderr,
    ), result.stderr


def test_destroying_a_running_campaign_removes_it(running_clock, kyaraben, workdir):
    write_lab(workdir, "")
    assert workdir.apply().exit_code == 0
    item = resources_of(workdir)["kyaraben_campaign.smoke"]
    result = workdir.run("destroy", str(workdir.path), "--auto-approve", "--target", "kyaraben_campaign.smoke")
    assert result.exit_code == 0, result.output
    assert "still running; removing it" in result.output
    assert kyaraben.api().get(f"/projects/{item['attributes']['project']}/campaigns/{item['id']}").status_code == 404
