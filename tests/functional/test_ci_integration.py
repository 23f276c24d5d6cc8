"""CI integration: the example pipelines run as their runners would; step summary, annotations, heartbeats.

The example GitHub workflow and GitLab file (examples/ci/) are run job by job:
each job in a fresh copy of the repository, each GitHub step as its own
``bash -eo pipefail -c``, each GitLab job's script lines in one such shell
(GitLab's runner also stops at the first failing line) — the labform commands
only, since the install steps install what the test already runs.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET

from ruamel.yaml import YAML

from labform.engine.ci import ChangeLog
from labform.engine.events import Event
from tests.conftest import BITBAR_PROVIDER
from tests.functional.test_bitbar_runs import WAIT, write_plan
from tests.functional.test_readme_commands import REPO, fresh_checkout, run_in_bash, runner_env

EXAMPLES = REPO / "examples" / "ci"


def summary_runs(summary) -> dict[str, list[str]]:
    """The Runs table of a step summary: each run's address to its cells after it
    (devices, passed, failed, duration, credits, gate)."""
    table = summary.read_text().partition("#### Runs")[2].partition("####")[0]  # up to the Checks table
    rows = [line.strip().strip("|").split("|") for line in table.splitlines() if line.startswith("| `")]
    return {cells[0].strip().strip("`"): [cell.strip() for cell in cells[1:]] for cells in rows}


def _load(name: str) -> dict:
    return YAML(typ="safe").load((EXAMPLES / name).read_text())


def test_github_workflow_jobs_run_as_the_runner_would(tmp_path):
    """Every job's labform steps pass; plan and apply write the step summary, the apply its runs table."""
    jobs = _load("github-actions.yml")["jobs"]
    assert set(jobs) == {"plan", "apply"}
    for name, job in jobs.items():
        checkout = fresh_checkout(tmp_path / name)
        summary = tmp_path / f"{name}-summary.md"
        env = runner_env(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
        steps = [step["run"] for step in job["steps"] if "labform" in step.get("run", "")]
        assert steps, f"job {name} runs no labform command"
        for script in steps:
            result = run_in_bash(script, checkout, env)
            assert result.returncode == 0, f"{name}: $ {script}\n{result.stdout}\n{result.stderr}"
        written = summary.read_text()
        assert f"### labform {'plan' if name == 'plan' else 'apply'} `plans/bitbar-ci`" in written
        if name == "apply":
            assert "#### Runs" in written and re.search(
                r"\| `bitbar_run\.smoke` \| 3 \| \d+ \| 0 \| \d+s \| [\d.]+ \| passed \|", written
            ), written


def test_gitlab_jobs_run_as_the_runner_would(tmp_path):
    """Each job's script passes in one bash -eo pipefail; the artifacts it declares are there."""
    config = _load("gitlab-ci.yml")
    jobs = {name: job for name, job in config.items() if isinstance(job, dict) and "script" in job}
    assert set(jobs) == {"validate", "plan", "apply"}
    for name, job in jobs.items():
        checkout = fresh_checkout(tmp_path / name)
        script = "\n".join(job["script"])
        result = run_in_bash(script, checkout, runner_env())
        assert result.returncode == 0, f"{name}: $ {script}\n{result.stdout}\n{result.stderr}"
        for path in job.get("artifacts", {}).get("paths", []):
            assert (checkout / path).exists(), f"{name} declares artifact {path}, which it did not write"
    plan = json.loads((tmp_path / "plan" / "tfplan.json").read_text())
    assert plan["summary"]["add"] == 8
    assert ET.parse(tmp_path / "apply" / "reports" / "bitbar-smoke.xml").getroot().tag == "testsuites"


def test_validation_errors_become_annotations_on_github(workdir, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("BITBAR_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BITBAR_API_KEY", "unused-key")
    monkeypatch.chdir(workdir.path)
    workdir.write(
        BITBAR_PROVIDER
        + "resources:\n  bitbar_project.a:\n    nmae: a\n    type: ANDROID\n  bitbar_project.b:\n    name: b\n    type: PHONE\n"
    )
    for args in (("validate", "."), ("validate", ".", "-json"), ("plan", ".")):
        result = workdir.run(*args)
        assert result.exit_code == 1
        assert (
            "::error file=main.yaml,line=7,col=5::bitbar_project.a: unknown field 'nmae' (did you mean 'name'?)"
            in result.stderr
        )
        assert (
            "::error file=main.yaml,line=11,col=5::bitbar_project.b: type: must be 'ANDROID', 'CTS', 'IOS' or 'UIAUTOMATOR', not 'PHONE'"
            in result.stderr
        )
    monkeypatch.delenv("GITHUB_ACTIONS")
    assert "::error" not in workdir.run("validate", ".").stderr


def test_a_missed_gate_is_annotated_at_its_block_and_summarised(half_failing, bitbar, workdir, monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_plan(workdir, WAIT + "\ngate: {min_success_ratio: 0.99}")
    result = workdir.apply()
    assert result.exit_code == 1
    block_line = workdir.path.joinpath("main.yaml").read_text().splitlines().index("  bitbar_run.smoke:") + 1
    annotation = re.search(
        rf"::error file=[^,]*main\.yaml,line={block_line},col=3::bitbar_run\.smoke: .*missed its gate", result.stderr
    )
    assert annotation, result.stderr
    written = summary.read_text()
    assert "### labform apply" in written and ": failed" in written
    assert re.search(r"\| `bitbar_run\.smoke` \| create \| failed \| .*missed its gate", written)
    assert re.search(
        r"\| `bitbar_run\.smoke` \| 3 \| \d+ \| [1-9]\d* \| \d+s \| [\d.]+ \| failed \(see above\) \|", written
    ), written


def test_plan_appends_a_table_of_changes_to_the_step_summary(bitbar, workdir, monkeypatch, tmp_path):
    from tests.functional.test_cli import PLAN

    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    workdir.write(PLAN)
    assert workdir.plan().exit_code == 0
    written = summary.read_text()
    assert written.startswith("earlier step\n")  # appended, as GitHub expects
    assert "**Plan:** 3 to add, 0 to change, 0 to destroy." in written
    assert "| + | `bitbar_project.checkout` | create |" in written
    assert workdir.apply().exit_code == 0
    assert workdir.plan().exit_code == 0
    assert summary.read_text().rstrip().endswith("No changes. Your cloud matches the plan.")


def test_a_silent_change_gets_a_heartbeat_at_most_once_per_interval():
    lines: list[str] = []
    with ChangeLog(lines.append, heartbeat=0.3) as log:
        log(Event("change_started", "bitbar_run.nightly: Creating...", "bitbar_run.nightly", {"action": "create"}))
        log(Event("progress", "run 7: RUNNING, 40% executed, device runs 3/5 finished", "bitbar_run.nightly"))
        time.sleep(1.1)
        log(
            Event(
                "change_finished",
                "bitbar_run.nightly: Creation complete after 1s",
                "bitbar_run.nightly",
                {"action": "create"},
            )
        )
        time.sleep(0.5)
    beats = [line for line in lines if "Still" in line]
    assert 1 <= len(beats) <= 3, lines  # ~1.1 s of silence at 0.3 s: at most one per interval, none after the end
    assert re.fullmatch(
        r"bitbar_run\.nightly: Still waiting\.\.\. \[\ds elapsed, RUNNING, 40% executed, device runs 3/5 finished\]",
        beats[0],
    )
    assert lines[-1].endswith("Creation complete after 1s")


def test_an_upload_with_no_progress_yet_is_still_creating():
    lines: list[str] = []
    with ChangeLog(lines.append, heartbeat=0.2) as log:
        log(Event("change_started", "bitbar_file.app: Creating...", "bitbar_file.app", {"action": "create"}))
        time.sleep(0.45)
        log(Event("change_finished", "bitbar_file.app: Creation complete", "bitbar_file.app", {"action": "create"}))
    assert any(re.fullmatch(r"bitbar_file\.app: Still creating\.\.\. \[0s elapsed\]", line) for line in lines), lines


def test_a_long_run_on_a_pipe_prints_heartbeats(running_clock, bitbar, workdir, monkeypatch):
    """Through the CLI on a pipe (the test's stdout), a run waited on longer than the interval says so."""
    monkeypatch.setenv("LABFORM_HEARTBEAT_SECONDS", "0.2")
    write_plan(workdir, "wait: {timeout: 60s, poll: 5s}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert re.search(r"bitbar_run\.smoke: Still waiting\.\.\. \[\d+s elapsed, ", result.stdout), result.stdout
