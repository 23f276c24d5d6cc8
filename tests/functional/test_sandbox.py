"""The sandbox: the quickstart runs with no account, and a second apply finds nothing to do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import Workdir

QUICKSTART = Path(__file__).resolve().parents[2] / "plans" / "bitbar-quickstart.yaml"


def test_quickstart_applies_on_the_sandbox_and_is_idempotent(workdir: Workdir, monkeypatch):
    """apply --sandbox creates everything; re-planning against the kept sandbox data shows no changes."""
    monkeypatch.delenv("BITBAR_URL", raising=False)
    monkeypatch.delenv("BITBAR_API_KEY", raising=False)
    plan = workdir.path / "quickstart.yaml"
    shutil.copy(QUICKSTART, plan)
    first = workdir.run("apply", str(plan), "--sandbox", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete! Resources: 4 added" in first.stdout
    assert (workdir.path / "labform.state.sandbox" / "bitbar.json").exists()
    second = workdir.run("plan", str(plan), "--sandbox", "--detailed-exitcode")
    assert second.exit_code == 0, second.output
    assert "No changes." in second.stdout
    destroyed = workdir.run("destroy", str(plan), "--sandbox", "--auto-approve")
    assert "4 destroyed" in destroyed.stdout, destroyed.output


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
