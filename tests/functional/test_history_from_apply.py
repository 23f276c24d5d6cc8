"""An apply adds what its runs reported to the workspace's test history: the same figures `labform tests
flaky` reads, with no separate `tests record` step; a run that writes no JUnit adds nothing."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import Workdir


def history(workdir: Workdir, plan: str) -> dict:
    shown = workdir.run("tests", "flaky", plan, "--include-local", "-json")
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.stdout)


def test_an_applied_run_is_in_the_history(shipped_plans: Path, workdir: Workdir):
    applied = workdir.run("apply", "plans/bitbar-ci", "--sandbox", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    cases = ET.parse(shipped_plans / "reports/bitbar-smoke.xml").getroot().findall("testsuite/testcase")
    first = history(workdir, "plans/bitbar-ci")
    assert first["clouds"] == ["bitbar"]
    assert first["results"] == len(cases) and first["tests"] == len(
        {c.get("classname") + "." + c.get("name") for c in cases}
    )

    again = workdir.run("apply", "plans/bitbar-ci", "--sandbox", "--auto-approve")  # nothing to run: nothing added
    assert again.exit_code == 0, again.output
    assert history(workdir, "plans/bitbar-ci")["results"] == first["results"]


def test_a_plan_without_junit_adds_no_history(shipped_plans: Path, workdir: Workdir):
    applied = workdir.run("apply", "plans/bitbar-quickstart", "--sandbox", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert not list((shipped_plans / "plans/bitbar-quickstart").glob("*.history.sqlite3"))
