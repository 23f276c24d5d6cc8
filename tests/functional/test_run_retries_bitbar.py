"""Bitbar retries re-run only what failed: failed device runs by the vendor client's retry call, failed
test classes (or packages) as a run each with the run's own limitation, never the project's config.

Over real HTTP against the Bitbar emulator with seeded flaky tests (``flaky_rate``): what the emulator
was asked to re-run (its request log, its runs' configs) is checked against labform's record of the
run, and JUnit, state and the CI summary against each other.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import xmlschema

from tests.conftest import state_of
from tests.functional.kyaraben.test_kyaraben_campaigns import set_speed
from tests.functional.test_bitbar_runs import run_starts, write_plan
from tests.functional.test_ci_integration import summary_runs

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "data" / "junit.xsd")
WAIT = "wait: {timeout: 60s, poll: 0.2s}"
USER_RUNS = re.compile(r"/api/v2/users/\d+/runs")


@pytest.fixture
def flaky(running_clock, emulator_options):
    """30% of the test package's tests are flaky: each run of one on a device fails with probability 0.3.
    The seed is one whose first run has a device that passed and one that failed."""
    emulator_options.flaky_rate = 0.3
    emulator_options.seed = 13


def run_attrs(workdir) -> dict:
    return state_of(workdir)["resources"]["bitbar_run.smoke"]["attributes"]


def failing_before(record: list[dict], number: int, unit_of) -> list[str]:
    """The units (in record order) with a case whose last attempt before ``number`` failed."""
    failing = []
    for case in record:
        earlier = [a for a in case["attempts"] if a["number"] < number]
        if earlier and earlier[-1]["outcome"] in ("failed", "error"):
            failing.append(unit_of(case))
    return list(dict.fromkeys(failing))


def retry_calls(bitbar) -> list[list[str]]:
    """The device run ids each retry call named, as the emulator received them."""
    return [
        [value for name, value in parse_qsl(r.query) if name == "deviceRunIds[]"]
        for r in bitbar.app.log.matching("POST", "/retry")
    ]


def emulator_runs(bitbar) -> list[dict]:
    with bitbar.app.store.lock:
        return sorted(bitbar.app.store.data["runs"].values(), key=lambda r: r["id"])


def check_reports_agree(workdir, junit: Path, summary: Path, record: list[dict]) -> None:
    """JUnit (valid against the XSD, every attempt inside its testcase) and the summary count as the record."""
    SCHEMA.validate(str(junit))
    root = ET.parse(junit).getroot()
    failed = [c for c in record if c["attempts"][-1]["outcome"] in ("failed", "error")]
    flaky = [c for c in record if c not in failed and any(a["outcome"] == "failed" for a in c["attempts"])]
    assert root.get("tests") == str(len(record)) and root.get("failures") == str(len(failed))
    assert len([c for c in root.iter("testcase") if c.find("flakyFailure") is not None]) == len(flaky)
    assert all(e.get("type") == "junit.framework.AssertionFailedError" for e in root.iter("flakyFailure"))
    devices, passed, failures = summary_runs(summary)["bitbar_run.smoke"][:3]
    assert (devices, passed, failures) == ("3", str(len(record) - len(failed)), str(len(failed)))


def test_failed_devices_rerun_by_the_retry_call_and_only_those(flaky, bitbar, workdir, monkeypatch):
    summary, junit = workdir.path / "summary.md", workdir.path / "smoke.xml"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    options = f"{WAIT}\nretry: {{attempts: 5, only: failed_devices}}\ngate: {{min_pass_rate: 1.0}}\njunit: {junit}"
    write_plan(workdir, options)
    result = workdir.apply()
    assert result.exit_code == 0, result.output

    attrs = run_attrs(workdir)
    attempts, record = attrs["attempts"], attrs["record"]
    assert len(attempts) >= 2, "the seed made no test fail: nothing was re-run"
    assert len(attempts[1]["units"]) < len(attrs["device_runs"]), "the seed made every device fail"
    # Every attempt after the first retried exactly the device runs that still had a failed case.
    for attempt in attempts[1:]:
        assert attempt["units"] == failing_before(record, attempt["number"], lambda c: c["unit"])
        assert attempt["id"] == attrs["id"]
    assert retry_calls(bitbar) == [a["units"] for a in attempts[1:]]
    assert run_starts(bitbar) == 1 and not bitbar.app.log.matching("POST", "/api/v2/users/")
    assert {c["unit"] for c in record} == {str(d["id"]) for d in attrs["device_runs"]}
    assert attrs["success_ratio"] == 1.0  # the cloud's own ratio, after the retried device runs passed

    check_reports_agree(workdir, junit, summary, record)
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    assert len(retry_calls(bitbar)) == len(attempts) - 1


def test_failed_test_classes_rerun_as_a_run_each_without_touching_the_project_config(
    flaky, bitbar, workdir, monkeypatch
):
    summary, junit = workdir.path / "summary.md", workdir.path / "smoke.xml"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    options = (
        f"{WAIT}\nretry: {{attempts: 5, only: failed_tests}}\n"
        f"gate: {{min_pass_rate: 1.0, min_success_ratio: 1.0}}\njunit: {junit}"
    )
    write_plan(workdir, options)
    result = workdir.apply()
    assert result.exit_code == 0, result.output

    attrs = run_attrs(workdir)
    attempts, record = attrs["attempts"], attrs["record"]
    assert len(attempts) >= 2, "the seed made no test fail: nothing was re-run"
    retried = {}
    for attempt in attempts[1:]:
        assert attempt["units"] == failing_before(record, attempt["number"], lambda c: c["classname"])
        assert [r["unit"] for r in attempt["runs"]] == attempt["units"]
        retried |= {r["id"]: r["unit"] for r in attempt["runs"]}
    # The emulator ran each class in a run of its own, limited by that run's config; the project's is as planned.
    runs = emulator_runs(bitbar)
    assert [r["id"] for r in runs] == [attrs["id"], *retried]
    assert len(bitbar.app.log.matching("POST", "/api/v2/users/")) == len(retried)
    for run in runs[1:]:
        assert (run["config"]["limitationType"], run["config"]["limitationValue"]) == ("CLASS", retried[run["id"]])
    project = state_of(workdir)["resources"]["bitbar_project.ci"]["id"]
    config = bitbar.api().get(f"/api/v2/me/projects/{project}/config").json()
    assert (config["limitationType"], config["limitationValue"]) == (None, "")
    assert len([r for r in bitbar.app.log.matching("POST", "/config") if r.path.endswith("/config")]) == 1
    # The cloud's successRatio of the first run counts its devices then; the gate counts each by its last attempt.
    assert attrs["success_ratio"] < 1.0

    check_reports_agree(workdir, junit, summary, record)
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    assert len(emulator_runs(bitbar)) == len(runs)


def test_failed_packages_and_a_device_bar_missed_after_the_last_attempt(
    running_clock, emulator_options, bitbar, workdir
):
    """by: package runs each failed test's package (PACKAGE); a device still failing after the retries
    misses min_success_ratio, said by device beside the test counts."""
    emulator_options.flaky_rate = 1.0
    write_plan(
        workdir, f"{WAIT}\nretry: {{attempts: 2, only: failed_tests, by: package}}\ngate: {{min_success_ratio: 1.0}}"
    )
    result = workdir.apply()
    attrs = run_attrs(workdir)
    second = attrs["attempts"][1]
    packages = failing_before(attrs["record"], 2, lambda c: c["classname"].rpartition(".")[0])
    assert second["units"] == packages and all(p.startswith("com.labform.sample.test.") for p in packages)
    limits = {(r["config"]["limitationType"], r["config"]["limitationValue"]) for r in emulator_runs(bitbar)[1:]}
    assert limits == {("PACKAGE", p) for p in packages}
    assert result.exit_code == 1
    assert re.search(
        r"missed its gate: devices \d/3 succeeded \(success ratio 0\.\d\d, each device by its last attempt, "
        r"below 1\.00\); tests \d+/\d+ passed; failing devices: ",
        result.output,
    )


def test_an_attempt_that_timed_out_is_resumed_never_started_again(flaky, emulator_options, bitbar, workdir):
    write_plan(workdir, WAIT)
    assert workdir.apply().exit_code == 0
    assert any(c["attempts"][-1]["outcome"] == "failed" for c in run_attrs(workdir)["record"]), "nothing failed"
    write_plan(workdir, "wait: {timeout: 0.5s, poll: 0.1s}\nretry: {attempts: 3, only: failed_tests}")
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2 and "Plan: 0 to add, 1 to change, 0 to destroy." in plan.output, plan.output
    set_speed(emulator_options.clock, 0)  # attempt 2 cannot finish while the clock stands still
    timed_out = workdir.apply()
    assert timed_out.exit_code == 1 and "did not finish" in timed_out.output, timed_out.output
    attempts = run_attrs(workdir)["attempts"]
    assert [a["finished"] for a in attempts] == [True, False] and "starting" not in attempts[1]
    started = len(emulator_runs(bitbar))
    assert started == 1 + len(attempts[1]["runs"])
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2 and "resume attempt 2" in plan.output, plan.output
    set_speed(emulator_options.clock, 1.0)
    write_plan(workdir, f"{WAIT}\nretry: {{attempts: 2, only: failed_tests}}")
    resumed = workdir.apply()
    assert resumed.exit_code == 0, resumed.output
    assert len(emulator_runs(bitbar)) == started
    assert all(a["finished"] for a in run_attrs(workdir)["attempts"])


def test_quarantined_tests_do_not_fail_the_device_bar(running_clock, emulator_options, bitbar, workdir):
    """min_success_ratio counts devices; a device whose only failing tests are quarantined counts as
    succeeded, said so in the message; the same run judged again, nothing started again."""
    emulator_options.flaky_rate = 1.0  # every test flaky: several fail on the first run
    write_plan(workdir, f"{WAIT}\ngate: {{min_success_ratio: 1.0}}")
    missed = workdir.apply()
    assert missed.exit_code == 1 and "missed its gate: devices " in missed.output, missed.output
    record = run_attrs(workdir)["record"]
    failing = sorted({f"{c['classname']}.{c['name']}" for c in record if c["attempts"][-1]["outcome"] == "failed"})
    assert len(failing) >= 2, "the seed made fewer than two tests fail"

    write_plan(workdir, f"{WAIT}\ngate: {{min_success_ratio: 1.0, quarantine: [{', '.join(failing)}]}}")
    passed = workdir.apply()
    assert passed.exit_code == 0, passed.output

    kept = failing[:-1]  # one failing test no longer quarantined: its devices fail the bar again
    write_plan(workdir, f"{WAIT}\ngate: {{min_success_ratio: 1.0, quarantine: [{', '.join(kept)}]}}")
    again = workdir.apply()
    assert again.exit_code == 1, again.output
    assert re.search(r"devices \d/3 succeeded \(success ratio 0\.\d\d, quarantined tests not counted", again.output)
    devices = {c["device"] for c in record if f"{c['classname']}.{c['name']}" == failing[-1]}
    failing_devices = again.output.split("failing devices: ")[1].splitlines()[0]
    assert all(d in failing_devices for d in devices), failing_devices
    assert run_starts(bitbar) == 1


@pytest.mark.parametrize(
    ("options", "line", "message"),
    [
        ("retry:\n  attempts: 2\n  only: failed_devices\n  by: class", 2, "'by' chooses how failed_tests re-runs"),
        ("gate:\n  quarantine: [a.B.c]", 2, "set min_success_ratio (devices), min_pass_rate (test cases)"),
        ("retry:\n  attempts: 2\n  only: failed_tests\n  by: method", 5, "retry.by: "),
    ],
)
def test_a_retry_or_gate_bitbar_cannot_do_is_refused_at_its_line(options, line, message, bitbar, workdir):
    write_plan(workdir, f"{WAIT}\n{options}")
    text = (workdir.path / "main.yaml").read_text().splitlines()
    first = text.index("    " + options.splitlines()[0]) + 1
    for command in ("validate", "plan"):
        result = workdir.run(command, str(workdir.path))
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert f"main.yaml:{first + line - 2}:" in result.stderr and message in result.stderr, result.stderr
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []


def test_a_class_run_whose_start_answer_is_lost_is_found_again_never_started_twice(
    flaky, emulator_options, bitbar, workdir
):
    """Every answer to the vendor client's run start is dropped after Bitbar started the run: labform finds
    each run again among the project's runs (unrecorded, its config selecting the class) and starts none twice."""
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("drop-after",)
    emulator_options.failure_paths = r"^POST /api/v2/users/\d+/runs$"
    write_plan(workdir, f"{WAIT}\nretry: {{attempts: 5, only: failed_tests}}\ngate: {{min_pass_rate: 1.0}}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output

    attrs = run_attrs(workdir)
    retried = {r["id"]: r["unit"] for attempt in attrs["attempts"][1:] for r in attempt["runs"]}
    assert retried, "the seed made no test fail: nothing was re-run"
    starts = [r for r in bitbar.app.log.matching("POST", "/api/v2/users/") if USER_RUNS.search(r.path)]
    assert len(starts) == len(retried)  # each class started once, its lost answer never sent again
    runs = emulator_runs(bitbar)
    assert [r["id"] for r in runs] == [attrs["id"], *retried]
    assert all(r["config"]["limitationValue"] == retried[r["id"]] for r in runs[1:])
    assert workdir.plan("--detailed-exitcode").exit_code == 0
