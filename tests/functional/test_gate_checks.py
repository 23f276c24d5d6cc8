"""Gates are checks, not changes: an unchanged world plans exit 0 with -detailed-exitcode for every
example, a missed gate is a failing check (plan still 0, apply 1), and a run still going is a change."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Workdir, state_of
from tests.functional.test_bitbar_runs import WAIT, run_starts, write_plan

PLANS = Path(__file__).resolve().parents[2] / "plans"
# Every example folder under plans/ (apps/ holds the files they upload): a new one is covered by itself.
EXAMPLES = sorted(p.name for p in PLANS.iterdir() if p.is_dir() and (p / "main.yaml").exists())


@pytest.fixture
def examples(shipped_plans: Path) -> Path:
    return shipped_plans


def test_every_example_is_covered():
    assert {"bitbar-ci", "bitbar-matrix", "kyaraben-lab", "perfecto-gate", "wetest-smoke", "apptest-smoke"} <= set(
        EXAMPLES
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_applied_example_plans_no_changes_and_its_gates_as_passing_checks(example, examples, workdir: Workdir):
    """Applied on the sandbox, then planned against the same world: -detailed-exitcode exits 0, the JSON
    plan is not applyable, and every gate is a check that passes (none is planned as a change)."""
    plan = f"plans/{example}"
    applied = workdir.run("apply", plan, "--sandbox", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    unchanged = workdir.run("plan", plan, "--sandbox", "-detailed-exitcode")
    assert unchanged.exit_code == 0, unchanged.output
    assert "No changes." in unchanged.stdout
    document = json.loads(workdir.run("plan", plan, "--sandbox", "-json").stdout)
    assert document["applyable"] is False
    assert {c["change"]["actions"][0] for c in document["resource_changes"]} <= {"no-op"}
    assert all(check["status"] == "pass" for check in document["checks"])
    written = "".join(file.read_text() for file in (examples / plan).rglob("*.yaml"))  # its modules' files too
    gated = "gate:" in written or example == "perfecto-gate"
    assert bool(document["checks"]) == gated


def test_a_run_started_but_not_finished_is_a_change_and_its_check_unknown(bitbar, workdir, emulator_options):
    """State says the run started and has not finished: the plan waits for it (a change, exit 2), its
    gate unknown until then; once it finished and met its gate, nothing changes and the check passes."""
    write_plan(workdir, "wait: {timeout: 1s, poll: 0.2s}\ngate: {min_success_ratio: 0.5}")
    assert workdir.apply().exit_code == 1  # the wait timed out: the run is in state, not finished
    assert state_of(workdir)["resources"]["bitbar_run.smoke"]["attributes"].get("finished") is not True
    waiting = workdir.plan("--detailed-exitcode")
    assert waiting.exit_code == 2, waiting.output
    assert "bitbar_run.smoke will be updated in-place (the run has not finished" in waiting.stdout
    assert "  bitbar_run.smoke: unknown (known after apply)" in waiting.stdout
    [check] = json.loads(workdir.plan("-json").stdout)["checks"]
    [instance] = check["instances"]
    assert (check["status"], instance["status"], instance["reason"]) == ("unknown", "unknown", "known after apply")
    emulator_options.clock.advance(3600)
    assert workdir.apply().exit_code == 0
    done = workdir.plan("--detailed-exitcode")
    assert done.exit_code == 0, done.output
    assert "  bitbar_run.smoke: passed" in done.stdout
    assert run_starts(bitbar) == 1


def test_a_missed_gate_is_a_failing_check_in_plan_json_and_fails_apply_and_its_summary(
    half_failing, bitbar, workdir, monkeypatch, tmp_path
):
    """After the run missed its gate: plan -json lists no change and the check as fail with the miss as
    its problem; apply changes nothing, exits 1 ("Apply failed!"), and its -json summary says why."""
    write_plan(workdir, WAIT + "\ngate: {min_success_ratio: 0.95}")
    assert workdir.apply().exit_code == 1
    document = json.loads(workdir.plan("-json").stdout)
    assert document["applyable"] is False and document["summary"]["checks"]["fail"] == 1
    [check] = document["checks"]
    assert check["address"]["to_display"] == "bitbar_run.smoke" and check["status"] == "fail"
    [problem] = check["instances"][0]["problems"]
    assert re.fullmatch(
        r"run \d+ missed its gate: devices \d/\d succeeded \(success ratio 0\.\d\d, below 0\.95\); tests \d+/\d+ passed; "
        r"failing devices: .+",
        problem["message"],
    )

    streamed = workdir.apply("-json")
    assert streamed.exit_code == 1, streamed.output
    summary = [json.loads(line) for line in streamed.stdout.splitlines() if '"change_summary"' in line][-1]
    assert summary["changes"]["change"] == 0 and summary["failed"] == [] and summary["status"] == "failed"
    assert [(c["address"], c["status"]) for c in summary["checks"]] == [("bitbar_run.smoke", "fail")]
    assert run_starts(bitbar) == 1


def test_refresh_false_judges_a_run_on_what_state_recorded(half_failing, bitbar, workdir):
    """-refresh=false reads no object: the check is the last verdict state holds (the missed gate), and
    no run is read from the cloud for it."""
    write_plan(workdir, WAIT + "\ngate: {min_success_ratio: 0.95}")
    assert workdir.apply().exit_code == 1
    bitbar.app.log.clear()
    recorded = workdir.plan("-refresh=false", "--detailed-exitcode")
    assert recorded.exit_code == 0, recorded.output
    assert "Checks (as state recorded them: -refresh=false read nothing from the cloud):" in recorded.stdout
    assert "Error: check bitbar_run.smoke failed: run " in recorded.stdout
    assert [r.path for r in bitbar.app.log.all() if "/runs/" in r.path] == []


def test_refresh_false_and_refresh_only_are_refused_together(workdir):
    workdir.write("resources: {}\n")
    refused = workdir.plan("-refresh=false", "-refresh-only")
    assert refused.exit_code == 1
    assert "-refresh=false and -refresh-only cannot be combined" in refused.stderr


def test_a_failing_check_is_annotated_and_in_the_step_summary(half_failing, bitbar, workdir, monkeypatch, tmp_path):
    """On GitHub, the re-apply's failing check is an ::error annotation and a row of the summary's checks table."""
    write_plan(workdir, WAIT + "\ngate: {min_success_ratio: 0.95}")
    assert workdir.apply().exit_code == 1
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    again = workdir.apply()
    assert again.exit_code == 1
    assert re.search(r"^::error::check bitbar_run\.smoke failed: run \d+ missed its gate", again.stderr, re.MULTILINE)
    written = summary.read_text()
    assert "### labform apply" in written and ": failed" in written
    assert re.search(r"\| `bitbar_run\.smoke` \| fail \| run \d+ missed its gate", written)
