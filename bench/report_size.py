"""The HTML report of a large run: how big is the page, and how fast does a browser load it?

A run of DEVICES devices x TESTS tests (a kyaraben campaign's state entry with
its canonical record, seeded: 2% of the cases flaky (failed, then passed on a
retry), 1% failing every one of 3 attempts, 10 tests quarantined, durations
log-normal around 2 s) is written as a state file; ``labform report --state
FILE -o report.html`` (the public CLI, in-process) writes the page. It is then
opened from disk in Debian's chromium (headless, launched by path through
playwright) RUNS times; the figure is navigation start to the load event
(``performance``'s navigation entry, ``loadEventStart``), median and slowest.

    python bench/report_size.py [DEVICES] [TESTS] [RUNS]      # defaults 50 500 5
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from playwright.sync_api import sync_playwright
from table import Row, markdown

from labform.engine.cli import main
from labform.engine.state.model import ResourceState, State
from labform.providers.run_record import CaseResult, RunRecord

CHROMIUM = "/usr/bin/chromium"
MAX_BYTES = 5 * 1024 * 1024
MAX_LOAD = 2.0  # seconds


def big_record(devices: int, tests: int, seed: int = 20) -> tuple[RunRecord, list[str]]:
    """Every test on every device; the seed picks the flaky and the failing cases and the durations."""
    rng = random.Random(seed)
    names = [(f"com.example.suite{t // 25}.Feature{t % 25}Test", f"test{t:03d}Behaves") for t in range(tests)]
    models = [f"Device {d:02d} Android {9 + d % 6}" for d in range(devices)]
    fates = {}
    for device in models:
        for classname, name in names:
            draw = rng.random()
            fates[(device, classname, name)] = "flaky" if draw < 0.02 else "broken" if draw < 0.03 else "ok"
    record = RunRecord()
    for number in (1, 2, 3):
        results = []
        for device in models:
            for classname, name in names:
                fate = fates[(device, classname, name)]
                if number > 1 and fate == "ok" or number > 2 and fate == "flaky":
                    continue  # a retry re-runs only what failed
                failed = fate == "broken" or (fate == "flaky" and number == 1)
                results.append(
                    CaseResult(
                        classname,
                        name,
                        device,
                        device,
                        "failed" if failed else "passed",
                        round(rng.lognormvariate(0.7, 0.5), 3),
                        "AssertionError: expected 200, got 503\n\tat Feature.check(Feature.java:42)" if failed else "",
                    )
                )
        record.add(number, results)
    quarantine = [f"{c}.{n}" for c, n in names[:10]]
    return record, quarantine


def state_file(folder: Path, devices: int, tests: int) -> Path:
    record, quarantine = big_record(devices, tests)
    attrs = {
        "id": "bench-run",
        "campaign_name": "bench",
        "project": "bench",
        "finished": True,
        "gate": {"min_pass_rate": 0.95, "quarantine": quarantine},
        "gate_failure": None,
        "attempts": [{"number": n, "id": f"bench-{n}", "finished": True} for n in (1, 2, 3)],
        "record": record.to_json(),
    }
    state = State(
        serial=1,
        lineage="bench",
        resources={"kyaraben_campaign.big": ResourceState("kyaraben_campaign", "bench-run", attrs)},
    )
    path = folder / "labform.state.json"
    path.write_text(state.to_json())
    return path


def load_seconds(page_file: Path, runs: int) -> list[float]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        found = []
        errors: list[str] = []
        for _ in range(runs):
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            found.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventStart") / 1000)
            if errors:
                raise SystemExit(f"the page raised: {errors}")
            page.close()
        browser.close()
    return found


def main_bench(devices: int, tests: int, runs: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        state = state_file(folder, devices, tests)
        page = folder / "out" / "report.html"
        started = time.perf_counter()
        result = CliRunner().invoke(main, ["report", str(folder), "--state", str(state), "-o", str(page)])
        written = time.perf_counter() - started
        if result.exit_code != 0:
            raise SystemExit(result.output)
        size = page.stat().st_size
        loads = load_seconds(page, runs)
    slowest = max(loads)
    return [
        Row(f"report of {devices} devices x {tests} tests ({devices * tests} cells)", "", "1 run, 3 attempts", True),
        Row("HTML page size", "<= 5 MB", f"{size / 1024 / 1024:.2f} MB ({size} bytes)", size <= MAX_BYTES),
        Row(
            f"load in headless chromium, navigation start to load event ({runs} loads)",
            "<= 2 s",
            f"median {statistics.median(loads):.2f} s, slowest {slowest:.2f} s",
            slowest <= MAX_LOAD,
        ),
        Row("labform report (read state, write page, Markdown, figures)", "", f"{written:.2f} s", True),
    ]


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] + [50, 500, 5][len(sys.argv) - 1 :]
    print(markdown(main_bench(*args[:3])))
