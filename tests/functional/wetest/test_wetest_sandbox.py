"""The WeTest demo plan on the sandbox: no account, a passing gate, JUnit, and nothing to do the second time."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

PLANS = Path(__file__).resolve().parents[3] / "plans"


def test_the_demo_plan_applies_twice_on_the_sandbox_and_the_second_time_changes_nothing(workdir, monkeypatch):
    """apply --sandbox uploads, tests on two phones, gates and writes JUnit; a second apply finds nothing to do."""
    for name in ("WETEST_URL", "WETEST_SECRET_ID", "WETEST_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LABFORM_SANDBOX_JOB_SECONDS", "1")
    shutil.copytree(PLANS, workdir.path / "plans")
    monkeypatch.chdir(workdir.path)  # the demo names its files relative to the repository root
    first = workdir.run("apply", "plans/wetest-smoke.yaml", "--sandbox", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete! Resources: 3 added" in first.stdout
    cases = ET.parse(workdir.path / "reports" / "wetest-smoke.xml").getroot().findall("testsuite/testcase")
    assert len(cases) == 2
    second = workdir.run("apply", "plans/wetest-smoke.yaml", "--sandbox", "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "No changes." in second.stdout
