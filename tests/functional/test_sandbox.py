"""The sandbox: the quickstart runs with no account, and a second apply finds nothing to do."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from providers import registry
from tests.conftest import Workdir

PLANS = Path(__file__).resolve().parents[2] / "plans"
CLOUD_ENV = (
    "BITBAR_URL",
    "BITBAR_API_KEY",
    "WETEST_URL",
    "WETEST_SECRET_ID",
    "WETEST_SECRET_KEY",
    "APPTEST_URL",
    "APPTEST_USER_ID",
    "APPTEST_ACCESS_KEY",
)
# example folder -> the JUnit file it writes and how many testcases it holds (one per device, or per test)
DEMOS = {
    "bitbar-quickstart": None,
    "bitbar-ci": ("reports/bitbar-smoke.xml", None),
    "wetest-smoke": ("reports/wetest-smoke.xml", 2),
    "apptest-smoke": ("reports/apptest-smoke.xml", 3),
}


@pytest.fixture
def demo_folder(workdir: Workdir, monkeypatch) -> Path:
    """A copy of plans/ as the working directory (demo plans name files relative to the repository root)."""
    for name in CLOUD_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LABFORM_SANDBOX_JOB_SECONDS", "1")
    # Only what the repository ships: a demo run by hand leaves state, sandbox data and reports beside it.
    shutil.copytree(
        PLANS,
        workdir.path / "plans",
        ignore=shutil.ignore_patterns("*.state.json*", "*.state.sandbox", "*.sandbox.json", "reports"),
    )
    monkeypatch.chdir(workdir.path)
    return workdir.path


@pytest.mark.parametrize("demo", sorted(DEMOS))
def test_demo_plan_applies_on_the_sandbox_and_is_idempotent(demo, demo_folder, workdir: Workdir):
    """apply --sandbox creates everything (and writes JUnit); re-planning against the kept sandbox data shows no changes."""
    plan = f"plans/{demo}"
    first = workdir.run("apply", plan, "--sandbox", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete!" in first.stdout
    assert (demo_folder / "plans" / demo / "labform.state.json").exists()
    if DEMOS[demo]:
        junit, cases = DEMOS[demo]
        found = ET.parse(demo_folder / junit).getroot().findall("testsuite/testcase")
        assert found and (cases is None or len(found) == cases)
    second = workdir.run("plan", plan, "--sandbox", "--detailed-exitcode")
    assert second.exit_code == 0, second.output
    assert "No changes." in second.stdout
    destroyed = workdir.run("destroy", plan, "--sandbox", "--auto-approve")
    assert "Destroy complete!" in destroyed.stdout, destroyed.output


def test_examples_keep_separate_state(demo_folder, workdir: Workdir):
    """Each example folder has its own state, so applying one example never destroys another's objects."""
    for demo in ("bitbar-quickstart", "bitbar-ci"):
        assert workdir.run("apply", f"plans/{demo}", "--sandbox", "--auto-approve").exit_code == 0
    again = workdir.run("plan", "plans/bitbar-quickstart", "--sandbox", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_sandbox_command_serves_every_emulator_until_stopped():
    """'labform sandbox' prints a URL and settings per cloud; the Bitbar URL answers like the cloud."""
    process = subprocess.Popen([sys.executable, "-m", "engine", "sandbox"], stdout=subprocess.PIPE, text=True)
    try:
        rows = {}
        for line in iter(process.stdout.readline, ""):
            if line.startswith("Serving"):
                break
            cloud, url, _, settings = line.split(None, 3)
            rows[cloud] = (url, json.loads(settings))
        assert set(rows) == set(registry.emulator_names())
        assert all(url.startswith("http://127.0.0.1:") for url, _ in rows.values())
        url, settings = rows["bitbar"]
        devices = httpx.get(
            url + "/api/v2/devices", auth=(settings["api_key"], ""), headers={"Accept": "application/json"}
        )
        assert devices.status_code == 200 and devices.json()["total"] > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
