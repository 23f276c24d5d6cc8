"""WeTest retries re-submit only the devices that did not pass; a device that passed on a retry is flaky;
a device WeTest could not test is an error exit, never a pass.

Over real HTTP against the WeTest emulator with seeded flaky devices (``flaky_rate``): the tests the
emulator was asked to run (their device ids) are checked against labform's record, and JUnit, state
and the CI summary against each other.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from tests.functional.test_ci_integration import summary_runs
from tests.functional.wetest.conftest import resources_of
from tests.functional.wetest.test_wetest_tests import WAIT, submissions, write_plan

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "data" / "junit.xsd")


@pytest.fixture
def flaky(running_clock, emulator_options):
    """Every device's run of the app and script is flaky: each fails with probability 0.3. The seed is
    one whose first test has a device that passed and one that failed."""
    emulator_options.flaky_rate = 1.0
    emulator_options.seed = 1


def emulator_tests(wetest) -> list[dict]:
    with wetest.app.store.lock:
        return sorted(wetest.app.store.data["tests"].values(), key=lambda t: t["submitted_at"])


def attrs_of(workdir) -> dict:
    return resources_of(workdir)["wetest_test.smoke"]["attributes"]


def test_only_devices_that_did_not_pass_are_resubmitted_and_reports_agree(flaky, wetest, workdir, monkeypatch):
    summary, junit = workdir.path / "summary.md", workdir.path / "smoke.xml"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_plan(
        workdir, WAIT, "retry: {attempts: 5, only: failed_devices}", "gate: {min_pass_rate: 1.0}", f"junit: {junit}"
    )
    result = workdir.apply()
    assert result.exit_code == 0, result.output

    attrs = attrs_of(workdir)
    attempts = attrs["attempts"]
    assert len(attempts) >= 2, "the seed made no device fail: nothing was re-run"
    assert len(attempts[1]["units"]) < 3, "the seed made every device fail"
    tests = emulator_tests(wetest)
    assert [t["test_id"] for t in tests] == [a["id"] for a in attempts] and submissions(wetest) == len(attempts)
    # Each test after the first ran exactly the devices the one before did not pass.
    for before, test, attempt in zip(tests, tests[1:], attempts[1:], strict=False):
        failed = [str(d["device_id"]) for d in before["devices"] if d["outcome"] != 1]
        assert attempt["units"] == failed == [str(d["device_id"]) for d in test["devices"]]
    assert attrs["pass_rate"] == 1.0 and all(d["result_code"] == 1 for d in attrs["device_results"])

    SCHEMA.validate(str(junit))
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    flaky_devices = [c for c in attrs["record"] if len(c["attempts"]) > 1]
    assert len(cases) == 3 and suite.get("failures") == "0"
    assert len([c for c in cases if c.find("flakyFailure") is not None]) == len(flaky_devices) > 0
    assert summary_runs(summary)["wetest_test.smoke"][0] == "3"
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    assert submissions(wetest) == len(attempts)


def test_a_device_that_passed_only_on_a_retry_fails_a_flaky_fail_gate(flaky, wetest, workdir):
    write_plan(workdir, WAIT, "retry: {attempts: 5, only: failed_devices}", "gate: {min_pass_rate: 1.0, flaky: fail}")
    result = workdir.apply()
    assert result.exit_code == 1
    assert "flaky (gate.flaky: fail): wetest." in result.output
    assert len(attrs_of(workdir)["attempts"]) == submissions(wetest) >= 2


def test_a_device_wetest_could_not_test_is_an_error_exit_on_every_apply(running_clock, wetest, workdir):
    """The offline device ends untested (result_code 3): retried, it is untested again; the apply fails
    naming it though no gate is set, and every later apply does too (a failing check, not a change)."""
    write_plan(workdir, WAIT, "retry: {attempts: 2, only: failed_devices}")
    plan = workdir.path / "main.yaml"
    plan.write_text(plan.read_text().replace("devices: [10001, 10003, 10005]", "devices: [10001, 10007]"))
    result = workdir.apply()
    assert result.exit_code == 1, result.output
    assert "devices unavailable" in result.output
    assert "1 device(s) could not be tested (result_code 3, untested (device exception)): P30 #10007" in result.output
    assert [a["units"] for a in attrs_of(workdir)["attempts"][1:]] == [["10007"]]
    again = workdir.apply()
    assert again.exit_code == 1 and "could not be tested" in again.stderr, again.output
    assert submissions(wetest) == 2


def test_wetest_cannot_rerun_single_tests_and_says_what_it_can(wetest, workdir):
    write_plan(workdir, WAIT, "retry:\n  attempts: 2\n  only: failed_tests")
    lines = (workdir.path / "main.yaml").read_text().splitlines()
    line = lines.index("    retry:") + 3
    result = workdir.run("validate", str(workdir.path))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"main.yaml:{line}:" in result.stderr
    assert "wetest cannot re-run failed_tests; the forms it can: failed_devices (re-runs the devices" in result.stderr
    assert submissions(wetest) == 0


def test_wetest_names_no_tests_so_quarantine_is_refused_at_its_line(wetest, workdir):
    write_plan(workdir, WAIT, "gate:\n  min_pass_rate: 1.0\n  quarantine: [com.app.Login.test]")
    lines = (workdir.path / "main.yaml").read_text().splitlines()
    line = lines.index("    gate:") + 3
    result = workdir.run("validate", str(workdir.path))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"main.yaml:{line}:" in result.stderr, result.stderr
    assert "never their names, so no test can be quarantined" in result.stderr
    assert submissions(wetest) == 0
