"""labform report and apply --report: the page, its Markdown and kept figures count what JUnit and
-json count, on every example that runs tests; cost beside the estimate; the previous run's figures.

Over the sandbox (the examples) and the emulators on loopback; the pages themselves are opened in a
real browser by tests/functional/test_report_browser.py.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import Workdir, state_of
from tests.functional.test_bitbar_runs import WAIT, write_plan
from tests.functional.test_gate_checks import EXAMPLES

# The examples that run tests (a run resource in state once applied); the rest have none.
RUNNING = [
    "apptest-smoke",
    "bitbar-ci",
    "bitbar-matrix",
    "bitbar-modules",
    "kyaraben-lab",
    "perfecto-gate",
    "wetest-smoke",
]


def run_results(stream: str) -> dict[str, dict]:
    """The -json stream's run_result bodies, by address."""
    found = {}
    for line in stream.splitlines():
        message = json.loads(line)
        if message["type"] == "run_result":
            found[message["run"]["resource"]["addr"]] = message["run"]
    return found


def junit_counts(path: Path) -> tuple[int, int]:
    """(test cases, failing ones) as a JUnit reader counts them: every testcase, failures and errors."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failing = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    return tests, failing


def test_the_examples_that_run_tests_are_the_ones_checked(shipped_plans: Path):
    """Every example with a run (a ``junit:`` in its files, its modules' too) is checked, and only those."""
    running = {
        example
        for example in EXAMPLES
        if any("junit:" in f.read_text() for f in (shipped_plans / "plans" / example).rglob("*.yaml"))
    }
    assert running | {"perfecto-gate"} == set(RUNNING)


@pytest.mark.parametrize("example", RUNNING)
def test_junit_report_and_json_count_alike_on_every_example(example, shipped_plans, workdir: Workdir):
    """Applied on the sandbox with --report: each run's JUnit counts == the report's == -json's facts."""
    plan = f"plans/{example}"
    applied = workdir.run("apply", plan, "--sandbox", "--auto-approve", "-json", "--report", "out")
    assert applied.exit_code == 0, applied.output
    assert "Report: out/report.html, out/report.md, out/report.json" in applied.stderr
    facts = run_results(applied.stdout)
    kept = json.loads((shipped_plans / "out" / "report.json").read_text())["runs"]
    markdown = (shipped_plans / "out" / "report.md").read_text()
    resources = json.loads((shipped_plans / plan / "labform.state.json").read_text())["resources"]
    assert facts and set(kept) == set(facts)
    for address, said in facts.items():
        figures = kept[address]["current"]
        tests, failing = junit_counts(shipped_plans / resources[address]["attributes"]["junit"])
        assert (figures["passed"], figures["failed"]) == (said["passed"], said["failed"]), address
        assert (said["passed"] + said["failed"], said["failed"]) == (tests, failing), address
        assert figures["devices"] == said["devices"]
        assert f"| `{address}` | " in markdown
        html = (shipped_plans / "out" / "report.html").read_text()
        assert f'data-passed="{said["passed"]}"' in html and f'data-failed="{said["failed"]}"' in html


def test_bitbar_credits_used_beside_the_estimate_and_the_previous_run(
    running_clock, bitbar, workdir: Workdir, monkeypatch
):
    """A new run of a priced device set: the plan's estimate, the credits labform computes (price ×
    devices × minutes) in -json, the summary and the report, and the earlier run's figures beside them."""
    summary = workdir.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_plan(workdir, WAIT + f"\njunit: {workdir.path / 'smoke.xml'}")
    out = workdir.path / "out"
    first = workdir.apply("--report", str(out))
    assert first.exit_code == 0, first.output
    resources = state_of(workdir)["resources"]
    price = resources["bitbar_project_config.ci"]["attributes"]["credits_price"]
    assert price > 0, "the seeded devices of the plan are all free"
    first_id = str(resources["bitbar_run.smoke"]["attributes"]["id"])

    write_plan(workdir, WAIT + f"\njunit: {workdir.path / 'smoke.xml'}", app_version="2.0")  # a new app: a new run
    second = workdir.apply("-json", "--report", str(out))
    assert second.exit_code == 0, second.output
    [said] = run_results(second.stdout).values()
    kept = json.loads((out / "report.json").read_text())["runs"]["bitbar_run.smoke"]
    minutes = max(1, math.ceil(kept["current"]["seconds"] / 60))
    assert said["credits"] == price * minutes
    assert said["estimate"] == kept["current"]["estimate"] and f"~ {price} credits" in said["estimate"]
    assert f"{price:g} credits a minute for 3 devices" in said["credits_basis"]
    assert kept["current"]["credits"] == said["credits"]
    assert kept["previous"]["run_id"] == first_id != kept["current"]["run_id"]
    html = (out / "report.html").read_text()
    assert f"previous run ({first_id})" in html
    assert f"{said['credits']:g} (estimate ~ {price} credits" in summary.read_text().rsplit("#### Runs", 1)[1]

    # Written again from state for the same run: the figures only the apply knew are kept, the previous too.
    again = workdir.run("report", str(workdir.path), "-o", str(out / "report.html"))
    assert again.exit_code == 0, again.output
    rewritten = json.loads((out / "report.json").read_text())["runs"]["bitbar_run.smoke"]
    assert rewritten == kept


def test_report_of_a_folder_with_no_runs_says_so(workdir: Workdir):
    workdir.write("variables:\n  x: 1\n")
    result = workdir.run("report", str(workdir.path), "-o", str(workdir.path / "r.html"))
    assert result.exit_code == 0, result.output
    assert "No runs in state." in (workdir.path / "r.md").read_text()
    assert "No runs in state." in (workdir.path / "r.html").read_text()


def test_report_refuses_an_output_that_is_not_html(workdir: Workdir):
    workdir.write("variables:\n  x: 1\n")
    result = workdir.run("report", str(workdir.path), "-o", str(workdir.path / "r.txt"))
    assert result.exit_code == 1
    assert "the report is an HTML page: name it .html" in result.stderr
    assert "Traceback" not in result.output and not (workdir.path / "r.txt").exists()
