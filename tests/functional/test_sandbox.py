"""The sandbox: the quickstart runs with no account, and a second apply finds nothing to do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import Workdir

PLANS = Path(__file__).resolve().parents[2] / "plans"


@pytest.mark.parametrize("demo", ["bitbar-quickstart.yaml", "bitbar-ci.yaml"])
def test_demo_plan_applies_on_the_sandbox_and_is_idempotent(demo, workdir: Workdir, monkeypatch):
    """apply --sandbox creates everything; re-planning against the kept sandbox data shows no changes."""
    monkeypatch.delenv("BITBAR_URL", raising=False)
    monkeypatch.delenv("BITBAR_API_KEY", raising=False)
    monkeypatch.setenv("LABFORM_SANDBOX_JOB_SECONDS", "1")
    shutil.copytree(PLANS, workdir.path / "plans")
    monkeypatch.chdir(workdir.path)  # demo plans name files relative to the repository root
    plan = f"plans/{demo}"
    first = workdir.run("apply", plan, "--sandbox", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete!" in first.stdout
    assert (workdir.path / "plans" / "labform.state.sandbox" / "bitbar.json").exists()
    second = workdir.run("plan", plan, "--sandbox", "--detailed-exitcode")
    assert second.exit_code == 0, second.output
    assert "No changes." in second.stdout
    destroyed = workdir.run("destroy", plan, "--sandbox", "--auto-approve")
    assert "Destroy complete!" in destroyed.stdout, destroyed.output


def test_sandbox_command_serves_every_emulator_until_stopped():
    """'labform sandbox' prints a URL and settings per cloud; the URL answers like the cloud."""
    process = subprocess.Popen([sys.executable, "-m", "engine", "sandbox"], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        cloud, url, _, settings = line.split(None, 3)
        assert cloud == "bitbar" and url.startswith("http://127.0.0.1:")
        key = json.loads(settings)["api_key"]
        devices = httpx.get(url + "/api/v2/devices", auth=(key, ""), headers={"Accept": "application/json"})
        assert devices.status_code == 200 and devices.json()["total"] > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
