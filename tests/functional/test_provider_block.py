"""A provider block written as a string is a plan-file error at its line, not an internal error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAN = """\
resources:
  bitbar_project.checkout:
    name: Checkout flow
    type: ANDROID
providers:
  bitbar: sk-typed-here-by-mistake
"""


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_provider_block_as_a_string_is_a_config_error(tmp_path: Path, command: str):
    """Exit 1, 'Error:' at the block's file:line naming the field; the value (maybe a key) is not echoed."""
    plan = tmp_path / "main.yaml"
    plan.write_text(PLAN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, "-m", "labform.engine", command, str(plan)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr == f"Error: {plan}:6:3: providers.bitbar must be a mapping of settings, not a string\n"
