"""The sandbox: the quickstart runs with no account, and a second apply finds nothing to do."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from labform.providers import registry
from labform.providers.emulation import CONTROL_PREFIX
from labform.providers.emulation.app import INSPECTION_HEADER
from tests.conftest import Workdir

PLANS = Path(__file__).resolve().parents[2] / "plans"
# example folder -> the JUnit file it writes and how many testcases it holds (one per device, or per test)
DEMOS = {
    "bitbar-quickstart": None,
    "bitbar-ci": ("reports/bitbar-smoke.xml", None),
    "bitbar-matrix": ("reports/checkout-sony.xml", None),  # one of its six, reports/APP-GROUP.xml
    "bitbar-modules": ("reports/checkout.xml", None),  # one per module instance, reports/APP.xml
    "wetest-smoke": ("reports/wetest-smoke.xml", 2),
    "apptest-smoke": ("reports/apptest-smoke.xml", 3),
}


@pytest.fixture
def demo_folder(shipped_plans: Path) -> Path:
    """A copy of plans/ as the working directory (demo plans name files relative to the repository root)."""
    return shipped_plans


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


def served_sandbox(*flags: str) -> tuple[subprocess.Popen[str], dict[str, tuple[str, dict]], str | None]:
    """``labform sandbox FLAGS`` started: its process, each cloud's URL and settings, and the printed token."""
    process = subprocess.Popen(
        [sys.executable, "-m", "labform.engine", "sandbox", *flags], stdout=subprocess.PIPE, text=True
    )
    rows, token = {}, None
    for line in iter(process.stdout.readline, ""):
        if line.startswith("Serving"):
            break
        if line.startswith("Inspection:"):
            token = line.split()[2] if line.startswith("Inspection: token ") else None
            continue
        cloud, url, _, settings = line.split(None, 3)
        rows[cloud] = (url, json.loads(settings))
    return process, rows, token


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)


def test_sandbox_command_serves_every_emulator_until_stopped():
    """'labform sandbox' prints a URL and settings per cloud; the Bitbar URL answers like the cloud."""
    process, rows, token = served_sandbox()
    try:
        assert set(rows) == set(registry.emulator_names())
        assert all(url.startswith("http://127.0.0.1:") for url, _ in rows.values())
        url, settings = rows["bitbar"]
        devices = httpx.get(
            url + "/api/v2/devices", auth=(settings["api_key"], ""), headers={"Accept": "application/json"}
        )
        assert devices.status_code == 200 and devices.json()["total"] > 0
        assert token
    finally:
        stop(process)


def test_sandbox_inspection_needs_the_printed_token_and_masks_credentials():
    """The request log answers only with the sandbox's token, and never shows the API key a request sent."""
    process, rows, token = served_sandbox("--only", "bitbar")
    try:
        url, settings = rows["bitbar"]
        key = settings["api_key"]
        httpx.get(url + "/api/v2/me", auth=(key, ""), headers={"Accept": "application/json"}).raise_for_status()
        httpx.get(url + "/api/v2/me", params={"access_token": "not-a-real-token-4711"})
        for headers in ({}, {INSPECTION_HEADER: "wrong"}):
            for path in ("/requests", "/store"):
                refused = httpx.get(url + CONTROL_PREFIX + path, headers=headers)
                assert refused.status_code == 401 and "inspection token" in refused.json()["error"]
        log = httpx.get(url + CONTROL_PREFIX + "/requests", headers={INSPECTION_HEADER: token})
        assert log.status_code == 200 and key not in log.text and "not-a-real-token-4711" not in log.text
        sent = [(r["headers"].get("authorization"), r["query"]) for r in log.json() if r["path"] == "/api/v2/me"]
        assert sent == [("Basic (sensitive)", ""), (None, "access_token=(sensitive)")]
    finally:
        stop(process)


def test_sandbox_with_open_inspection_serves_the_log_to_anyone():
    process, rows, token = served_sandbox("--only", "bitbar", "--open-inspection")
    try:
        assert token is None
        assert httpx.get(rows["bitbar"][0] + CONTROL_PREFIX + "/requests").status_code == 200
    finally:
        stop(process)
