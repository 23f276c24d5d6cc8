"""plans/perfecto-gate on the sandbox: the gate passes, writes JUnit, and is judged again by the next apply."""

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


def test_the_demo_gate_passes_and_is_judged_again_on_the_second_apply(demo_folder, workdir):
    """First apply waits for processing, passes, writes 12 testcases; the second judges the same build again and passes again."""
    first = workdir.run("apply", DEMO, "--sandbox", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "perfecto: 12 executions, PROCESSING_COMPLETE" in first.stdout
    assert "previous_failed = 1" in first.stdout and "pass_rate = 1.0" in first.stdout
    assert len(ET.parse(demo_folder / "reports" / "perfecto-gate.xml").getroot().findall("testsuite/testcase")) == 12
    (demo_folder / "reports" / "perfecto-gate.xml").unlink()

    plan = workdir.run("plan", DEMO, "--sandbox")
    assert plan.exit_code == 0 and "perfecto_gate.build will be created" in plan.stdout, plan.output
    second = workdir.run("apply", DEMO, "--sandbox", "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "perfecto_gate.build: Creation complete" in second.stdout
    assert (demo_folder / "reports" / "perfecto-gate.xml").exists()


def test_the_demo_gate_fails_when_the_build_has_failures(demo_folder, workdir, monkeypatch):
    """With half the sandbox's tests failing, the apply exits 1 naming the pass rate and the failed tests."""
    monkeypatch.setenv("LABFORM_SANDBOX_FAILURE_SHARE", "0.5")
    result = workdir.run("apply", DEMO, "--sandbox", "--auto-approve")
    assert result.exit_code == 1 and result.exception is None
    assert "checkout-ci#128 missed its gate: pass rate 50.0% is below 95.0%; 6 FAILED: " in result.stdout
    failures = ET.parse(demo_folder / "reports" / "perfecto-gate.xml").getroot().findall("testsuite/testcase/failure")
    assert len(failures) == 6
