"""plans/kyaraben-lab on the sandbox: applied twice, the second time there is nothing to do."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import Workdir

PLANS = Path(__file__).resolve().parents[3] / "plans"


def test_the_lab_demo_applies_on_the_sandbox_twice_and_destroys(workdir: Workdir, shipped_plans):
    plan = "plans/kyaraben-lab"
    first = workdir.run("apply", plan, "--sandbox", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "Apply complete! Resources: 5 added, 0 changed, 0 destroyed." in first.stdout
    cases = ET.parse(workdir.path / "reports" / "kyaraben-smoke.xml").getroot().findall("testsuite/testcase")
    assert len(cases) == 4 and all(
        c.find("system-out").text.startswith("INSTRUMENTATION_STATUS: numtests=2") for c in cases
    )
    second = workdir.run("apply", plan, "--sandbox", "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "No changes." in second.stdout
    destroyed = workdir.run("destroy", plan, "--sandbox", "--auto-approve")
    assert "Destroy complete!" in destroyed.stdout, destroyed.output
