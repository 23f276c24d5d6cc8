"""perfecto_gate end to end: a check judged on every plan, pass rate and forbidden statuses, JUnit, processing, exit codes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from tests.conftest import state_of
from tests.functional.perfecto.conftest import PERFECTO_PROVIDER
from tests.functional.test_ci_integration import summary_runs

GATE = (
    PERFECTO_PROVIDER
    + """
resources:
  perfecto_gate.release:
    job_name: release
    job_number: 5
    OPTIONS
"""
)


def write_gate(workdir, *options: str) -> None:
    workdir.write(GATE.replace("OPTIONS", "\n    ".join(options)))


def recorded_gate(workdir) -> dict:
    return state_of(workdir)["resources"]["perfecto_gate.release"]["attributes"]


def test_a_passing_gate_writes_junit_then_is_a_check_judged_again_on_every_plan(perfecto, workdir):
    """All 20 executions passed: exit 0 and one testcase each. After that the gate is no change but a
    check: the next plan reads the report again and shows it passing (-detailed-exitcode exits 0);
    once the job has failures the check fails, plan still exits 0, and apply exits 1 naming it."""
    junit = workdir.path / "out" / "perfecto.xml"
    perfecto.seed(20, job_name="release", job_number=5)
    write_gate(workdir, "min_pass_rate: 0.9", "fail_on: [FAILED, BLOCKED]", f"junit: {junit}")
    first = workdir.apply()
    assert first.exit_code == 0, first.output
    assert "perfecto: release#5: 20 executions, 20 PASSED, 0 FAILED, 0 BLOCKED, 0 UNKNOWN" in first.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("release#5", "20", "0")
    assert recorded_gate(workdir)["pass_rate"] == 1.0
    reads = len(perfecto.report_requests())

    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout and "  perfecto_gate.release: passed" in again.stdout
    assert len(perfecto.report_requests()) > reads

    perfecto.seed(5, job_name="release", job_number=5, failure_share=1.0)
    missed = "release#5 missed its gate: pass rate 80.0% is below 90.0%; 5 FAILED: "
    red_plan = workdir.plan("--detailed-exitcode")
    assert red_plan.exit_code == 0, red_plan.output
    assert "No changes." in red_plan.stdout
    assert f"Error: check perfecto_gate.release failed: {missed}" in red_plan.stdout
    red = workdir.apply()
    assert red.exit_code == 1 and red.exception is None
    assert "Apply failed! Resources: 0 added, 0 changed, 0 destroyed." in red.stdout
    assert f"Error: check perfecto_gate.release failed: {missed}" in red.stderr
    assert "until the results it reads meet the bar" in red.stderr
    assert recorded_gate(workdir)["counts"]["FAILED"] == 5  # state records what this apply judged


def test_plan_json_lists_the_gate_as_a_check_unknown_then_passing_then_failing(perfecto, workdir):
    """checks[] in Terraform's shape: unknown before the first apply (known after apply), pass once
    applied, fail with the miss as its problem once a test failed; never a change (applyable false)."""
    perfecto.seed(4, job_name="release", job_number=5)
    write_gate(workdir, "fail_on: [FAILED]")

    def planned() -> dict:
        result = workdir.plan("-json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    first = planned()["checks"]
    assert first == [
        {
            "address": {
                "kind": "resource",
                "to_display": "perfecto_gate.release",
                "mode": "managed",
                "type": "perfecto_gate",
                "name": "release",
            },
            "status": "unknown",
            "instances": [
                {"address": {"to_display": "perfecto_gate.release"}, "status": "unknown", "reason": "known after apply"}
            ],
        }
    ]
    assert workdir.apply().exit_code == 0
    passing = planned()
    assert passing["applyable"] is False and passing["summary"]["checks"]["pass"] == 1
    assert passing["checks"][0]["status"] == "pass" and "problems" not in passing["checks"][0]["instances"][0]

    perfecto.seed(2, job_name="release", job_number=5, failure_share=1.0)
    failing = planned()
    assert failing["applyable"] is False and failing["resource_changes"][0]["change"]["actions"] == ["no-op"]
    check = failing["checks"][0]
    assert check["status"] == "fail" and check["instances"][0]["status"] == "fail"
    [problem] = check["instances"][0]["problems"]
    assert problem["message"].startswith("release#5 missed its gate: 2 FAILED: ")


def test_a_report_still_processing_is_a_wait_then_a_check(perfecto, workdir):
    """With wait, a report still processing is work apply owes (a change, its check unknown); once
    processed, the plan judges it and has nothing to change."""
    perfecto.seed(3, job_name="release", job_number=5)
    write_gate(workdir, "fail_on: [FAILED]", "wait: {timeout: 30s, poll: 0.2s}")
    assert workdir.apply().exit_code == 0
    perfecto.seed(3, job_name="release", job_number=5, processing=600)
    waiting = workdir.plan("--detailed-exitcode")
    assert waiting.exit_code == 2, waiting.output
    assert "perfecto_gate.release will be updated in-place (the report is still processing" in waiting.stdout
    assert "  perfecto_gate.release: unknown (known after apply)" in waiting.stdout
    perfecto.app.clock.advance(601)
    done = workdir.plan("--detailed-exitcode")
    assert done.exit_code == 0, done.output
    assert "  perfecto_gate.release: passed" in done.stdout


def test_refresh_false_shows_the_last_verdict_without_reading_the_report(perfecto, workdir):
    """-refresh=false reads nothing: the check is judged on what the last apply recorded (passing),
    though the report now fails; the plan says so. A plan that refreshes judges it afresh (failing)."""
    perfecto.seed(4, job_name="release", job_number=5)
    write_gate(workdir, "fail_on: [FAILED]")
    assert workdir.apply().exit_code == 0
    perfecto.seed(1, job_name="release", job_number=5, failure_share=1.0)
    reads = len(perfecto.report_requests())
    recorded = workdir.plan("-refresh=false", "--detailed-exitcode")
    assert recorded.exit_code == 0, recorded.output
    assert "Checks (as state recorded them: -refresh=false read nothing from the cloud):" in recorded.stdout
    assert "  perfecto_gate.release: passed" in recorded.stdout
    assert len(perfecto.report_requests()) == reads
    as_json = json.loads(workdir.plan("-refresh=false", "-json").stdout)
    assert as_json["refresh"] is False and as_json["checks"][0]["status"] == "pass"
    fresh = workdir.plan()
    assert "Error: check perfecto_gate.release failed: release#5 missed its gate: 1 FAILED: " in fresh.stdout


def test_a_pass_rate_below_the_bar_fails_with_the_numbers_and_junit_failures(perfecto, workdir):
    """5 of 20 failed: exit 1 naming the rate; each failure in JUnit carries its message and report link; the counts stay in state."""
    junit = workdir.path / "perfecto.xml"
    made = perfecto.seed(20, job_name="release", job_number=5, failure_share=0.25)
    write_gate(workdir, "min_pass_rate: 0.9", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert "perfecto: gate failed: release#5 missed its gate: pass rate 75.0% is below 90.0%" in result.stdout
    failures = ET.parse(junit).getroot().findall("testsuite/testcase/failure")
    assert len(failures) == 5
    failed_ids = {e["id"] for e in made if e["status"] == "FAILED"}
    for failure in failures:
        assert failure.get("message") == "Element not found: id=checkout-button"
        link = re.search(r"report: (\S+)/test/(\w+)", failure.text)
        assert link and link.group(1) == perfecto.server.url and link.group(2) in failed_ids
    assert recorded_gate(workdir)["counts"] == {"PASSED": 15, "FAILED": 5, "BLOCKED": 0, "UNKNOWN": 0}


def test_the_step_summary_shows_the_gates_executions_and_verdict(perfecto, workdir, monkeypatch, tmp_path):
    """The runs table: PASSED and FAILED executions as the report has them, and the gate held."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    made = perfecto.seed(20, job_name="release", job_number=5, failure_share=0.25)
    write_gate(workdir, "min_pass_rate: 0.5")
    assert workdir.apply().exit_code == 0
    failed = sum(e["status"] == "FAILED" for e in made)
    assert 0 < failed < 20
    row = summary_runs(summary)["perfecto_gate.release"]
    assert row[:3] + row[4:] == ["—", str(20 - failed), str(failed), "—", "passed"]


def test_a_blocked_execution_fails_a_gate_that_forbids_it(perfecto, workdir):
    """fail_on: [BLOCKED] fails on one blocked test even at a 95% pass rate, naming it and its report; JUnit shows it as an error."""
    junit = workdir.path / "perfecto.xml"
    made = perfecto.seed(20, job_name="release", job_number=5, blocked_share=0.05)
    blocked = next(e for e in made if e["status"] == "BLOCKED")
    write_gate(workdir, "min_pass_rate: 0.9", "fail_on: [BLOCKED]", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert f"1 BLOCKED: {blocked['name']} ({perfecto.server.url}/test/{blocked['id']})" in result.stdout
    assert "pass rate" not in result.stdout
    assert len(ET.parse(junit).getroot().findall("testsuite/testcase/error")) == 1


def test_a_gate_without_executions_fails(perfecto, workdir):
    """No execution matches: nothing vouches for the build, so the gate fails."""
    write_gate(workdir, "fail_on: [FAILED]")
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert "release#5 missed its gate: no executions match" in result.stdout


def test_a_gate_over_1200_executions_reads_every_page_or_refuses_a_cut_short_report(perfecto, workdir):
    """1,200 executions: judged over all three pages; a server that lets only 500 be read cannot vouch for the build."""
    perfecto.seed(1200, job_name="release", job_number=5)
    write_gate(workdir, "min_pass_rate: 1")
    result = workdir.apply()
    if perfecto.variants.results == "first_500":
        assert result.exit_code == 1 and result.exception is None
        assert "the server let only the first 500 executions be read; narrow the filters" in result.stdout
    else:
        assert result.exit_code == 0, result.output
        assert recorded_gate(workdir)["total"] == 1200
        assert [dict(q)["_page"] for q in perfecto.queries()] == ["1", "2", "3"]


def test_the_gate_waits_for_processing_before_judging(perfecto, workdir):
    """With wait, the gate reads until PROCESSING_COMPLETE; the report it judged says so."""
    perfecto.app.clock.speed = 1.0
    perfecto.seed(6, job_name="release", job_number=5, processing=1.0)
    write_gate(workdir, "fail_on: [FAILED, BLOCKED]", "wait: {timeout: 30s, poll: 0.2s}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert result.stdout.index("6 executions, PROCESSING\n") < result.stdout.index("6 executions, PROCESSING_COMPLETE")
    assert recorded_gate(workdir)["processing_status"] == "PROCESSING_COMPLETE"


def test_a_gate_needs_a_bar(perfecto, workdir):
    """Neither min_pass_rate nor fail_on: a plan error at the block, before any request."""
    write_gate(workdir, "junit: out.xml")
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert re.search(
        r"main\.yaml:\d+:\d+: perfecto_gate\.release: set min_pass_rate or fail_on \(or both\)", result.stderr
    )
    assert perfecto.report_requests() == []


def test_destroying_a_gate_only_forgets_it(perfecto, workdir):
    """A gate has nothing on the cloud: destroy sends no request and empties state."""
    perfecto.seed(3, job_name="release", job_number=5)
    write_gate(workdir, "fail_on: [FAILED]")
    assert workdir.apply().exit_code == 0
    reads = len(perfecto.app.log.all())
    destroyed = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output
    assert len(perfecto.app.log.all()) == reads
    assert state_of(workdir)["resources"] == {}
