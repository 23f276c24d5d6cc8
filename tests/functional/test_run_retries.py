"""Retries re-run only what failed, a flake is told from a failure, and every report counts alike.

Over real HTTP against the kyaraben emulator with seeded flaky tests (``flaky_rate``): every
campaign test's package is flaky, so each run of one fails with probability 0.3, drawn from the
seed. What the emulator was asked to run (its campaigns, its request log) is checked against
what labform recorded, and JUnit, state and the CI summary against each other.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from tests.functional.apptest.test_apptest_waiting import write_plan as write_testset
from tests.functional.kyaraben.conftest import resources_of, write_lab
from tests.functional.kyaraben.test_kyaraben_campaigns import set_speed
from tests.functional.test_ci_integration import summary_runs

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "data" / "junit.xsd")
WAIT = "wait: {timeout: 60s, poll: 0.1s}"
IMAGES = ("kitkat-tablet", "kitkat-phone", "lollipop-tablet", "lollipop-phone")
# Eight campaign tests (two per image), each running the compiled test source's two scenarios.
TESTS = "tests:\n" + "".join(
    f'  - image: {image}\n    apks: ["${{kyaraben_apk.app.id}}", "${{kyaraben_testsource.checkout.apk_id}}"]\n'
    for image in IMAGES * 2
)


@pytest.fixture
def flaky(running_clock, emulator_options):
    emulator_options.flaky_rate = 1.0
    emulator_options.job_duration = 0.3


@pytest.fixture
def lab(flaky, kyaraben):
    """The kyaraben emulator with room for the eight campaign tests at once."""
    kyaraben.set_quota(vm_live_max=3, vm_async_max=8)
    return kyaraben


def write_suite(workdir, options: str) -> Path:
    """The lab with the smoke campaign's tests replaced by eight, and ``options`` added."""
    plan = write_lab(workdir, f"{WAIT}\n{options}")
    text = plan.read_text()
    start = text.index("    tests:\n", text.index("kyaraben_campaign.smoke"))
    end = text.index("    triggers:", start)
    return workdir.write(text[:start] + "    " + TESTS.replace("\n", "\n    ").rstrip() + "\n" + text[end:])


def campaigns(kyaraben) -> list[dict]:
    return sorted(kyaraben.records("campaigns"), key=lambda c: c["created_at"])


def starts(kyaraben) -> int:
    return len([r for r in kyaraben.app.log.matching("POST") if r.path.endswith("/campaigns")])


def test_only_failed_campaign_tests_are_rerun_and_every_report_counts_alike(lab, workdir, monkeypatch):
    summary = workdir.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = workdir.path / "smoke.xml"
    write_suite(workdir, f"retry: {{attempts: 5, only: failed_tests}}\ngate: {{min_pass_rate: 1.0}}\njunit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output

    attrs = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]
    attempts = attrs["attempts"]
    assert len(attempts) >= 2, "the seed made no test fail: nothing was re-run"
    assert "attempt 2 of 5 re-runs" in result.output
    # The emulator ran each attempt's campaign with exactly the campaign tests that failed before.
    made = campaigns(lab)
    assert len(made) == len(attempts) == starts(lab)
    assert [c["campaign_id"] for c in made] == [a["id"] for a in attempts]
    units = [str(i) for i in range(8)]
    for campaign, following in zip(made, attempts[1:], strict=False):
        assert following["units"] == [units[i] for i in campaign["failing"]], "a passed campaign test was re-run"
        units = following["units"]
    assert made[-1]["failing"] == []

    # One record: flaky cases are those that failed, then passed; JUnit keeps every attempt.
    record = attrs["record"]
    flaky_cases = [
        c
        for c in record
        if c["attempts"][-1]["outcome"] == "passed" and any(a["outcome"] == "failed" for a in c["attempts"])
    ]
    assert flaky_cases and len(record) == 16
    SCHEMA.validate(str(junit))
    root = ET.parse(junit).getroot()
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 16 and root.get("tests") == "16" and root.get("failures") == "0"
    flaky_elements = [c for c in cases if c.find("flakyFailure") is not None]
    assert len(flaky_elements) == len(flaky_cases)
    assert all(e.get("type") and e.get("message", "").startswith("attempt ") for e in root.iter("flakyFailure"))
    assert not list(root.iter("failure"))

    row = summary_runs(summary)["kyaraben_campaign.smoke"]
    assert row[:3] == ["8", "16", "0"]
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    assert starts(lab) == len(attempts)


def test_without_retries_a_flaky_failure_misses_the_gate_and_says_what_it_counts(lab, workdir):
    write_suite(workdir, "gate: {min_pass_rate: 1.0}")
    result = workdir.apply()
    failing = campaigns(lab)[0]["failing"]
    assert failing, "the seed made no test fail"
    assert result.exit_code == 1
    assert f"tests {16 - len(failing)}/16 passed" in result.output
    assert starts(lab) == 1


def test_flaky_fail_and_quarantine(lab, workdir):
    """gate.flaky: fail turns a flake into a failure; quarantining the test lets it pass, named."""
    write_suite(workdir, "retry: {attempts: 5, only: failed_tests}\ngate: {min_pass_rate: 1.0, flaky: fail}")
    result = workdir.apply()
    assert result.exit_code == 1
    assert "flaky (gate.flaky: fail): com.zenika.aic.dsl.checkout.test.Scenario1 on #" in result.output
    attempts = len(resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]["attempts"])
    quarantined = (
        "retry: {attempts: 5, only: failed_tests}\n"
        "gate: {min_pass_rate: 1.0, flaky: fail, quarantine: [com.zenika.aic.dsl.checkout.test.Scenario1]}"
    )
    write_suite(workdir, quarantined)
    again = workdir.apply()
    assert again.exit_code == 0, again.output
    assert starts(lab) == attempts  # judged again on the record: nothing re-run


def test_a_retry_added_later_is_a_change_and_a_timed_out_attempt_is_resumed_not_restarted(
    lab, workdir, emulator_options
):
    write_suite(workdir, "")
    assert workdir.apply().exit_code == 0
    assert campaigns(lab)[0]["failing"], "the seed made no test fail"
    write_suite(workdir, "retry: {attempts: 5, only: failed_tests}")
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2 and "Plan: 0 to add, 1 to change, 0 to destroy." in plan.output, plan.output
    short = write_suite(workdir, "retry: {attempts: 5, only: failed_tests}")
    short.write_text(short.read_text().replace(WAIT, "wait: {timeout: 0.3s, poll: 0.05s}"))
    set_speed(emulator_options.clock, 0)  # attempt 2 cannot finish while the clock stands still
    timed_out = workdir.apply()
    assert timed_out.exit_code == 1 and "did not finish" in timed_out.output, timed_out.output
    attempts = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]["attempts"]
    assert [a["finished"] for a in attempts] == [True, False]
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2 and "resume attempt 2" in plan.output
    write_suite(workdir, "retry: {attempts: 5, only: failed_tests}")
    set_speed(emulator_options.clock, 1.0)
    resumed = workdir.apply()
    assert resumed.exit_code == 0, resumed.output
    attempts = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]["attempts"]
    assert starts(lab) == len(attempts) and all(a["finished"] for a in attempts)
    assert attempts[1]["id"] == campaigns(lab)[1]["campaign_id"]


@pytest.mark.parametrize(
    ("retry", "line", "message"),
    [
        ("retry:\n  attempts: 3\n  only: failed_devices", 3, "kyaraben cannot re-run failed_devices; the forms it can"),
        ("retry:\n  attempts: 0", 2, "retry.attempts: "),
        ("retry:\n  attempts: 6", 2, "retry.attempts: "),
        ("retry:\n  attempts: 2\n  only: every_test", 3, "retry.only: "),
    ],
)
def test_a_retry_the_cloud_cannot_do_is_refused_at_its_line_and_nothing_starts(retry, line, message, kyaraben, workdir):
    plan = write_lab(workdir, f"{WAIT}\n{retry}")
    first = plan.read_text().splitlines().index("    retry:") + 1
    for command in ("validate", "plan"):
        result = workdir.run(command, str(workdir.path))
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert f"main.yaml:{first + line - 1}:" in result.stderr and message in result.stderr, result.stderr
    assert kyaraben.writes() == []


def test_a_retry_needs_wait_and_a_cloud_without_retries_says_so(kyaraben, workdir):
    write_lab(workdir, "retry: {attempts: 2}")
    result = workdir.run("validate", str(workdir.path))
    assert result.exit_code == 1 and "a retry needs 'wait'" in result.stderr, result.output
    workdir.write(
        "resources:\n  apptest_testset.smoke:\n    pid: 1\n    path: app.apk\n    wait: {timeout: 1m}\n"
        "    retry: {attempts: 2, only: failed_tests}\n"
    )
    refused = workdir.run("validate", str(workdir.path))
    assert refused.exit_code == 1 and "main.yaml:6:" in refused.stderr, refused.output
    assert (
        "retry.only: apptest cannot re-run failed_tests; the forms it can: all (re-runs the whole testset"
        in refused.stderr
    )


def test_apptest_reruns_the_whole_testset_and_counts_its_last_attempt(
    running_clock, emulator_options, apptest, workdir
):
    """apptest.ai can only run a whole testset: each attempt is a new one, named after the first; the
    counts and the gate are the last attempt's, JUnit keeps every attempt of each device."""
    emulator_options.failure_share = 0.34  # one of the three preset devices fails, in every testset
    junit = workdir.path / "apptest.xml"
    write_testset(workdir, "retry: {attempts: 2, only: all}", "gate: {max_failed: 0}", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 1 and "missed its gate: 1 device failed" in result.output, result.output
    attrs = resources_of(workdir)["apptest_testset.smoke"]["attributes"]
    names = [t["testset_name"] for t in sorted(apptest.stored_testsets(), key=lambda t: t["testset_id"])]
    assert names == ["Nightly smoke", "Nightly smoke attempt 2"] and apptest.starts() == 2
    assert [a["units"] for a in attrs["attempts"][1:]] == [["testset"]]
    assert attrs["id"] == attrs["attempts"][0]["id"] and attrs["failed"] == 1
    assert all(len(c["attempts"]) == 2 for c in attrs["record"]) and len(attrs["record"]) == 3
    SCHEMA.validate(str(junit))
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "3" and len(root.findall("testsuite/testcase/error")) == 1
    assert workdir.apply().exit_code == 1 and apptest.starts() == 2
