"""SIGINT and SIGTERM during an apply, through the real CLI in its own process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PLANS = Path(__file__).resolve().parents[2] / "plans"


@pytest.fixture
def ci_example(tmp_path) -> Path:
    """A copy of the Bitbar CI example (its runs take 6 s on the sandbox) as the working directory."""
    shutil.copytree(
        PLANS, tmp_path / "plans", ignore=shutil.ignore_patterns("*.state.json*", "*.state.sandbox", "reports")
    )
    return tmp_path


def start_apply(folder: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BITBAR_", "GITHUB_"))}
    env["LABFORM_SANDBOX_JOB_SECONDS"] = "6"
    return subprocess.Popen(
        [sys.executable, "-m", "labform.engine", "apply", "plans/bitbar-ci", "--sandbox", "--auto-approve"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_apply_cleanly_and_the_next_apply_finishes_without_a_second_run(ci_example, signum, code):
    """The signal arrives while the run is waited on: the apply stops waiting, records the run, releases
    the lock, prints its summary and exits 130/143; the next apply waits on the same run and is green."""
    process = start_apply(ci_example)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "bitbar_run.smoke: Creating..." in line:
            break
    time.sleep(1.5)  # the run has started and is being waited on
    process.send_signal(signum)
    rest, _ = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert process.returncode == code, output
    assert f"{signal.Signals(signum).name} received" in output
    assert "Traceback" not in output and "internal error" not in output
    state_file = ci_example / "plans" / "bitbar-ci" / "labform.state.json"
    run_id = json.loads(state_file.read_text())["resources"]["bitbar_run.smoke"]["id"]

    again = start_apply(ci_example)
    second, _ = again.communicate(timeout=120)
    assert again.returncode == 0, second
    assert json.loads(state_file.read_text())["resources"]["bitbar_run.smoke"]["id"] == run_id
