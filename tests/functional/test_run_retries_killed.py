"""An apply SIGKILLed between the runs per class of a Bitbar failed_tests retry: the next apply resumes the
attempt and starts every failed class once, none twice.

The CLI and ``labform sandbox`` run in processes of their own (bench/sandbox_harness.py), so the kill is a
real SIGKILL of the CLI; what Bitbar was asked to start is counted in the emulator's request log.
"""

from __future__ import annotations

import json
import re

from bench.crash_trials import write_plan
from bench.sandbox_harness import SandboxProcess, labform, plan_environment, start_labform

RUN_START = re.compile(r"^/api/v2/users/\d+/runs$")
CLASS_RUN = re.compile(r"attempt 2 re-runs CLASS ")


def class_run_starts(served) -> int:
    """Runs started through the vendor client's run call (the first run starts in its project)."""
    return sum(1 for r in served.requests() if r["method"] == "POST" and RUN_START.match(r["path"]))


def test_a_retry_killed_between_class_runs_resumes_without_starting_a_class_twice(tmp_path):
    # Every test flaky (each run of one fails with probability 0.3): the first run fails several classes.
    flags = ("--only", "bitbar", "--job-seconds", "1", "--seed", "20260", "--flaky-rate", "1.0")
    with SandboxProcess(tmp_path / "sandbox", *flags) as served:
        folder = write_plan(tmp_path / "plan", "killed")
        plan = (folder / "main.yaml").read_text() + "    retry: {attempts: 2, only: failed_tests}\n"
        (folder / "main.yaml").write_text(plan)
        environment = plan_environment(folder, served)
        bitbar = served.clouds["bitbar"]

        apply = start_labform(["apply", ".", "--auto-approve"], folder, environment)
        seen = []
        for line in iter(apply.stdout.readline, ""):
            seen.append(line)
            if CLASS_RUN.search(line):
                break
        apply.kill()  # SIGKILL, right after the first run per class was recorded and said
        apply.wait()
        apply.stdout.close()
        assert any(CLASS_RUN.search(line) for line in seen), "".join(seen)
        before = class_run_starts(bitbar)  # the runs per class started before the kill

        resumed = labform(["apply", ".", "--auto-approve"], folder, environment)
        assert resumed.exit_code == 0, resumed.key_lines()
        assert "Traceback" not in resumed.output
        state = json.loads((folder / "labform.state.json").read_text())
        retried = state["resources"]["bitbar_run.smoke"]["attributes"]["attempts"][1]
        classes = retried["units"]
        assert 1 <= before < len(classes), f"the kill did not land between class runs ({before} of {classes})"
        assert [r["unit"] for r in retried["runs"]] == classes

        # The request log: one run start per failed class, however the kill fell.
        assert class_run_starts(bitbar) == len(classes)
        runs = [r for r in bitbar.store()["runs"].values() if r["config"].get("limitationType") == "CLASS"]
        assert sorted(r["config"]["limitationValue"] for r in runs) == sorted(classes)  # each class once

        plan = labform(["plan", ".", "--detailed-exitcode"], folder, environment)
        assert plan.exit_code == 0, plan.key_lines()
        assert class_run_starts(bitbar) == len(classes)
