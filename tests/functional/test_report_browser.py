"""The HTML report in a real headless browser: Debian's chromium, launched by path through playwright
(``playwright install`` cannot download here): it loads with no console error, its matrix's cells
count what the run's record counts, its one control works and every artifact link resolves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.functional.kyaraben.conftest import resources_of
from tests.functional.test_run_retries import flaky, lab, write_suite  # noqa: F401  (fixtures)

CHROMIUM = "/usr/bin/chromium"
FLAKY_TEST = "com.zenika.aic.dsl.checkout.test.Scenario1"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


def opened(browser: Browser, page_file: Path) -> tuple[Page, list[str]]:
    """The page loaded from disk, and every console error or uncaught exception it raised."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith("file:") else problems.append(request.url))
    page.goto(page_file.resolve().as_uri(), wait_until="load")
    return page, problems


def last_outcomes(record: list[dict]) -> dict[str, int]:
    """The record's cases by last attempt, counted here from state (not by labform's code)."""
    last = [c["attempts"][-1]["outcome"] for c in record]
    flakes = sum(
        c["attempts"][-1]["outcome"] == "passed" and any(a["outcome"] != "passed" for a in c["attempts"])
        for c in record
    )
    return {
        "pass": last.count("passed") - flakes,
        "flaky": flakes,
        "fail": last.count("failed") + last.count("error"),
    }


def test_a_flaky_quarantined_run_loads_cleanly_and_its_matrix_counts_the_record(lab, workdir, browser):  # noqa: F811
    write_suite(
        workdir,
        f"retry: {{attempts: 3, only: failed_tests}}\ngate: {{min_pass_rate: 0.5, quarantine: [{FLAKY_TEST}]}}",
    )
    out = workdir.path / "out"
    assert workdir.apply("--report", str(out)).exit_code == 0
    record = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]["record"]
    expected = last_outcomes(record)
    assert expected["flaky"] or expected["fail"], "the seed made no test fail"

    page, problems = opened(browser, out / "report.html")
    assert problems == []
    section = page.locator("section.run")
    assert section.get_attribute("data-address") == "kyaraben_campaign.smoke"
    cells = {state: section.locator(f"table.matrix td.{state}").count() for state in ("pass", "flaky", "fail")}
    assert cells == expected
    assert section.locator("table.matrix td:not(.none)").count() == len(record) == 16
    figures = section.locator("table.figures")
    assert int(figures.get_attribute("data-passed") or -1) == expected["pass"] + expected["flaky"]
    assert int(figures.get_attribute("data-failed") or -1) == expected["fail"]
    assert int(figures.get_attribute("data-flaky") or -1) == expected["flaky"]
    quarantined = [c for c in record if f"{c['classname']}.{c['name']}" == FLAKY_TEST]
    assert section.locator("table.matrix td.q").count() == len(quarantined) == 8
    assert section.locator(".lane svg").count() == 8  # a lane per device (a campaign test's VM)

    # The one control: only failed and flaky tests' rows stay shown.
    rows = section.locator("table.matrix tbody tr")
    bad = section.locator("table.matrix tbody tr.bad").count()
    section.locator("input.only-bad").check()
    assert sum(rows.nth(i).is_visible() for i in range(rows.count())) == bad
    page.close()


def test_every_artifact_link_of_the_example_resolves(shipped_plans, workdir, browser):
    """bitbar-ci downloads logs and JUnit per device and a failures CSV: each is linked relatively and found."""
    applied = workdir.run("apply", "plans/bitbar-ci", "--sandbox", "--auto-approve", "--report", "out")
    assert applied.exit_code == 0, applied.output
    page, problems = opened(browser, shipped_plans / "out" / "report.html")
    assert problems == []
    hrefs = [a.get_attribute("href") or "" for a in page.locator("a[href]").all()]
    downloaded = sorted(p for p in (shipped_plans / "reports" / "bitbar-smoke").rglob("*") if p.is_file())
    assert len(hrefs) == len(downloaded) == 7  # logs and junit of three devices, the failures CSV
    assert sorted((shipped_plans / "out" / h).resolve() for h in hrefs) == [p.resolve() for p in downloaded]
    assert not any(h.startswith("/") or "://" in h for h in hrefs)
    kept = json.loads((shipped_plans / "out" / "report.json").read_text())["runs"]["bitbar_run.smoke"]
    assert page.locator("table.figures").get_attribute("data-passed") == str(kept["current"]["passed"])
    page.close()
