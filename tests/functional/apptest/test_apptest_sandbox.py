"""The apptest.ai demo plan on the sandbox: no account, a passing gate, the cloud's JUnit, nothing to do the second time."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

PLANS = Path(__file__).resolve().parents[3] / "plans"


def test_the_demo_plan_applies_twice_on_the_sandbox_and_the_second_time_changes_nothing(workdir, monkeypatch):
    """apply --sandbox starts one testset, waits, gates and writes JUnit; a second apply finds the same app hash."""
    for name in ("APPTEST_URL", "APPTEST_USER_ID", "APPTEST_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LABFORM_SANDBOX_JOB_SECONDS", "1")
    shutil.copytree(PLANS, workdir.path / "plans")
    monkeypatch.chdir(workdir.path)  # the demo names its app relative to the repository root
    first = workdir.run("apply", "plans/apptest-smoke.yaml", "--sandbox", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete! Resources: 1 added" in first.stdout
    suites = ET.parse(workdir.path / "reports" / "apptest-smoke.xml").getroot().findall("testsuite")
    assert [len(s.findall("testcase")) for s in suites] == [3]
    second = workdir.run("apply", "plans/apptest-smoke.yaml", "--sandbox", "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "No changes." in second.stdout
