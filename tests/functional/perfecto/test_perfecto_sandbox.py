"""plans/perfecto-gate on the sandbox: the gate passes, writes JUnit, and is a check judged again by the next plan."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

PLANS = Path(__file__).resolve().parents[3] / "plans"
DEMO = "plans/perfecto-gate"


@pytest.fixture
def demo_folder(workdir, monkeypatch) -> Path:
    """A copy of plans/ as the working directory, with no real Perfecto settings in the environment."""
    for name in ("PERFECTO_CLOUD", "PERFECTO_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LABFORM_SANDBOX_JOB_SECONDS", "1")
    shutil.copytree(PLANS, workdir.path / "plans")
    monkeypatch.chdir(workdir.path)
    return workdir.path


def test_the_demo_gate_passes_then_is_a_passing_check(demo_folder, workdir):
    """First apply waits for processing, passes, writes 12 testcases; the plan after it has nothing to
    change and shows the check passing; a removed JUnit file is a change that apply writes again."""
    first = workdir.run("apply", DEMO, "--sandbox", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "perfecto: 12 executions, PROCESSING_COMPLETE" in first.stdout
    assert "previous_failed = 1" in first.stdout and "pass_rate = 1.0" in first.stdout
    assert len(ET.parse(demo_folder / "reports" / "perfecto-gate.xml").getroot().findall("testsuite/testcase")) == 12

    unchanged = workdir.run("plan", DEMO, "--sandbox", "-detailed-exitcode")
    assert unchanged.exit_code == 0, unchanged.output
    assert "No changes." in unchanged.stdout and "  perfecto_gate.build: passed" in unchanged.stdout

    (demo_folder / "reports" / "perfecto-gate.xml").unlink()
    plan = workdir.run("plan", DEMO, "--sandbox", "-detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert (
        "perfecto_gate.build will be updated in-place (its JUnit file reports/perfecto-gate.xml is missing"
        in plan.stdout
    )
    second = workdir.run("apply", DEMO, "--sandbox", "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "perfecto_gate.build: Modifications complete" in second.stdout
    assert (demo_folder / "reports" / "perfecto-gate.xml").exists()


def test_the_demo_gate_fails_when_the_build_has_failures(demo_folder, workdir, monkeypatch):
    """With half the sandbox's tests failing, the apply exits 1 naming the pass rate and the failed tests."""
    monkeypatch.setenv("LABFORM_SANDBOX_FAILURE_SHARE", "0.5")
    result = workdir.run("apply", DEMO, "--sandbox", "--auto-approve")
    assert result.exit_code == 1 and result.exception is None
    assert "checkout-ci#128 missed its gate: pass rate 50.0% is below 95.0%; 6 FAILED: " in result.stdout
    failures = ET.parse(demo_folder / "reports" / "perfecto-gate.xml").getroot().findall("testsuite/testcase/failure")
    assert len(failures) == 6
