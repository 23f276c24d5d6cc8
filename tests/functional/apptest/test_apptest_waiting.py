"""Waiting on a testset: status counts, gates, the cloud's JUnit XML, maintenance (8000) and still-running (6002) retries."""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from contextlib import nullcontext
from functools import partial

import pytest

from labform.providers.apptest import emulator as apptest_emulator
from labform.providers.apptest.client import RESULT_CODES, AppTestClient
from tests.apps import build_apk
from tests.functional.apptest.conftest import (
    ACCESS_KEY,
    APPTEST_PROVIDER,
    USER_ID,
    recorded_testset,
)
from tests.functional.test_ci_integration import summary_runs

PLAN = (
    APPTEST_PROVIDER
    + """
resources:
  apptest_testset.smoke:
    pid: 509
    path: APP_PATH
    testset_name: Nightly smoke
    wait: {timeout: 60s, poll: 0.5s}
    OPTIONS
"""
)


def write_plan(workdir, *options: str) -> None:
    (workdir.path / "app.apk").write_bytes(build_apk())
    lines = "\n    ".join(options) or "use_vo: false"
    workdir.write(PLAN.replace("APP_PATH", str(workdir.path / "app.apk")).replace("OPTIONS", lines))


@pytest.fixture
def one_failing(running_clock, emulator_options):
    """One of the project's three preset devices fails."""
    emulator_options.failure_share = 0.34


def test_a_passing_gate_shows_the_counts_and_writes_the_clouds_junit(running_clock, apptest, workdir):
    """wait shows Running/Complete with the counts; the JUnit file is the cloud's result_xml, one testcase per device."""
    junit = workdir.path / "out" / "apptest.xml"
    write_plan(workdir, "gate: {max_failed: 0, max_errors: 0, min_passed: 3}", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert re.search(
        r"Running: \d passed, 0 failed, 0 errors, 0 stopped, \d running, \d initializing \(of 3\)", result.stdout
    )
    assert "Complete: 3 passed, 0 failed, 0 errors, 0 stopped, 0 running, 0 initializing (of 3)" in result.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == "Nightly smoke" and suite.get("tests") == "3" and suite.get("errors") == "0"
    assert [c.get("name") for c in suite.findall("testcase")] == [
        d["name"] for d in apptest_emulator.SANDBOX_PROJECTS["509"]["devices"]
    ]
    attributes = recorded_testset(workdir)["attributes"]
    assert (attributes["status"], attributes["passed"], attributes["failed"]) == ("Complete", 3, 0)


def test_a_missed_gate_exits_1_with_the_counts_and_keeps_the_testset(one_failing, apptest, workdir):
    """A failed test breaks max_failed: the apply fails with the numbers; the testset stays in state; re-apply starts nothing and fails again."""
    junit = workdir.path / "apptest.xml"
    write_plan(workdir, "gate: {max_failed: 0, min_passed: 3}", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert (
        "missed its gate: 1 device failed (JUnit errors, as the cloud writes them), at most 0 allowed; "
        "2 devices passed, at least 3 needed; of 3 devices: 2 passed, 1 failed, 0 errors" in result.stdout
    )
    assert recorded_testset(workdir)["attributes"]["failed"] == 1
    assert len(ET.parse(junit).getroot().findall("testsuite/testcase/error")) == 1
    again = workdir.apply()
    assert again.exit_code == 1, again.output  # red stays red: the same run is judged again, none started
    assert "missed its gate" in again.stderr and "--replace" in again.stderr  # a failing check, not a change
    assert apptest.starts() == 1


def test_the_step_summary_shows_the_testsets_own_counts(one_failing, apptest, workdir, monkeypatch, tmp_path):
    """The runs table: the devices its results report lists (the run record), their passed and failed counts."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_plan(workdir, "gate: {max_failed: 1}")
    assert workdir.apply().exit_code == 0
    row = summary_runs(summary)["apptest_testset.smoke"]
    assert row[:3] + row[4:] == ["3", "2", "1", "—", "passed"]


def test_wait_times_out_cleanly_and_keeps_the_testset(apptest, workdir):
    """On a frozen clock the testset never completes: the apply fails naming it and its counts, and records it."""
    write_plan(workdir)
    workdir.write(
        workdir.path.joinpath("main.yaml")
        .read_text()
        .replace("timeout: 60s", "timeout: 1s")
        .replace("poll: 0.5s", "poll: 0.2s")
    )
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    testset_id = recorded_testset(workdir)["id"]
    assert (
        f"run {testset_id} did not finish within 1s (last: Running: 0 passed, 0 failed, 0 errors, 0 stopped, 0 running, 3 initializing"
        in result.stdout
    )


def test_maintenance_is_retried_until_it_ends(monkeypatch, apptest, workdir):
    """While apptest.ai answers 8000 the start is retried with backoff; it succeeds once maintenance ends."""
    monkeypatch.setenv("APPTEST_MAINTENANCE_TIMEOUT", "30s")
    write_plan(workdir)
    apptest_emulator.set_maintenance(apptest.app, True)
    threading.Timer(0.6, apptest_emulator.set_maintenance, (apptest.app, False)).start()
    workdir.write(workdir.path.joinpath("main.yaml").read_text().replace("    wait: {timeout: 60s, poll: 0.5s}\n", ""))
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert (
        "start testset: System Maintenance: The Service is currently under system maintenance.; apptest.ai is under system maintenance; retrying"
        in result.stderr
    )
    assert len(apptest.app.log.matching("POST")) >= 2 and len(apptest.stored_testsets()) == 1


def test_maintenance_that_lasts_is_reported_after_the_timeout(monkeypatch, apptest, workdir):
    """Maintenance longer than maintenance_timeout fails the apply with 8000 and its reason."""
    monkeypatch.setenv("APPTEST_MAINTENANCE_TIMEOUT", "0.5s")
    write_plan(workdir)
    apptest_emulator.set_maintenance(apptest.app, True)
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert re.search(
        r"apptest: start testset failed \(8000\): System Maintenance: .*; apptest\.ai is under system maintenance \(still so after retrying for \ds\)",
        result.output,
    )
    assert apptest.stored_testsets() == []


def test_a_result_asked_for_while_running_is_waited_for(apptest):
    """6002 (still running) is retried by the poller until the testset completes, over real HTTP."""
    client = AppTestClient(apptest.server.url, USER_ID, ACCESS_KEY, timeout=10, maintenance_timeout=0)
    app_part = partial(nullcontext, ("a.apk", build_apk(), "application/octet-stream"))
    testset_id = client.create_testset({"pid": 509, "testset_name": "x"}, app_part)["testset_id"]
    assert apptest.api().get(f"/{testset_id}/result").json()["result_code"] == 6002
    threading.Timer(0.5, apptest.app.clock.advance, (apptest.app.options.job_duration,)).start()
    result = client.result(testset_id)
    assert result["complete"] is True and "<testsuites" in result["result_xml"]
    assert len(apptest.app.log.matching("GET", "/result")) >= 3


def test_every_documented_result_code_has_an_explanation():
    """The client explains each code of the doc's Appendix (the emulator's table is that Appendix)."""
    assert set(apptest_emulator.RESULT_CODES) <= set(RESULT_CODES)
