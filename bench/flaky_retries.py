"""Retries against flaky tests: does the gate pass with them, fail without, and re-run nothing that passed?

A suite of TESTS test packages (one test each) on 3 devices (kyaraben images), as
one campaign of TESTS x 3 campaign tests, on the kyaraben emulator with
``flaky_rate`` = FLAKY / TESTS: FLAKY packages are flaky (chosen by the seed),
each run of one failing with probability 0.3. The gate is ``min_pass_rate: 0.99,
over: tests``. One apply per seed holds two campaigns over the same uploads: one
with ``retry: {attempts: 3, only: failed_tests}``, one without, started after the
first (the emulator draws a run of a flaky test from how many ran before, so
this keeps a seed's draws the same on every run). Per seed:

- whether each campaign's gate passed (from labform's exit and the state's check);
- re-runs of a passed unit: every campaign the emulator was asked to start after
  the first of a run (its ``POST .../campaigns``, counted in the request log) must
  hold only campaign tests that failed in the attempt before, as the emulator
  itself decided them (its store).

Everything goes through the public CLI (in-process) and real HTTP; the
emulator serves in this process on a fast clock.

    python bench/flaky_retries.py [SEEDS] [TESTS] [FLAKY] [JOBS]     # defaults 100 200 10 2

A seed spends most of its time waiting on the emulator's clock, so JOBS seeds run
at once, each in a process of its own (own emulator, own environment).
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from click.testing import CliRunner
from table import Row, markdown

from labform.engine.cli import main
from labform.providers.emulation import Clock, EmulatorOptions, EmulatorServer
from labform.providers.kyaraben import emulator as kyaraben

IMAGES = ("kitkat-phone", "lollipop-phone", "lollipop-tablet")
GATE = "gate: {min_pass_rate: 0.99, over: tests}"
RETRY = "retry: {attempts: 3, only: failed_tests}"


def test_apk(package: str) -> bytes:
    """A test package of one test: a manifest declaring an instrumentation."""
    manifest = (
        f'<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="{package}">'
        '<instrumentation android:name="android.test.InstrumentationTestRunner"/></manifest>'
    ).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("AndroidManifest.xml", (2024, 1, 1, 0, 0, 0)), manifest)
        archive.writestr(zipfile.ZipInfo("classes.dex", (2024, 1, 1, 0, 0, 0)), b"dex\n035\0")
    return buffer.getvalue()


def plan_text(folder: Path, tests: int) -> str:
    lines = [
        "providers:\n  kyaraben:\n    endpoint: ${env.KYARABEN_URL}\n    auth_value: ${env.KYARABEN_AUTH_VALUE}\n",
        "resources:\n  kyaraben_project.suite: {project_name: suite}\n",
    ]
    for index in range(tests):
        path = folder / f"t{index}.apk"
        path.write_bytes(test_apk(f"com.bench.t{index}.test"))
        lines.append(f"  kyaraben_apk.t{index}: {{project: '${{kyaraben_project.suite.id}}', path: {path}}}\n")
    entries = "".join(
        f"      - {{image: {image}, apks: ['${{kyaraben_apk.t{index}.id}}']}}\n"
        for index in range(tests)
        for image in IMAGES
    )
    # The emulator draws a flaky test's outcome from how many times it ran before (on that image), so the
    # campaign without retries starts after the other: a seed draws the same outcomes on every run.
    for name, options in (
        ("with_retries", f"    {RETRY}\n"),
        ("without", "    depends_on: [kyaraben_campaign.with_retries]\n"),
    ):
        lines.append(
            f"  kyaraben_campaign.{name}:\n    project: ${{kyaraben_project.suite.id}}\n"
            f"    wait: {{timeout: 10m, poll: 0.2s}}\n    {GATE}\n{options}" + f"    tests:\n{entries}"
        )
    return "".join(lines)


def passed_reruns(campaigns: list[dict], names: dict[str, list[str]]) -> int:
    """Campaign tests a later attempt ran that had passed in the attempt before (by the emulator's draws)."""
    by_name = {c["campaign_name"]: c for c in campaigns}
    reruns = 0
    for first, chain in names.items():
        attempts = [by_name[first]] + [by_name[n] for n in chain]
        for before, after in zip(attempts, attempts[1:], strict=False):
            failed = {(t["image"], t["package"]) for i, t in enumerate(before["tests"]) if i in set(before["failing"])}
            reruns += sum((t["image"], t["package"]) not in failed for t in after["tests"])
    return reruns


def one_seed(seed: int, tests: int, flaky: int, folder: Path) -> dict[str, object]:
    options = EmulatorOptions(
        seed=seed, flaky_rate=flaky / tests, clock=Clock(speed=1.0), job_duration=0.4, retry_after=0
    )
    app = kyaraben.build_app(options)
    with app.store.lock:
        app.store.data["quotas"]["*"] = {"vm_live_max": 3, "vm_async_max": 2 * 3 * tests}
    work = folder / f"seed{seed}"
    work.mkdir()
    (work / "main.yaml").write_text(plan_text(folder, tests))
    with EmulatorServer(app) as server:
        os.environ["KYARABEN_URL"], os.environ["KYARABEN_AUTH_VALUE"] = server.url, kyaraben.SANDBOX_USER
        result = CliRunner().invoke(
            main, ["apply", str(work), "--auto-approve", "--state", str(work / "state.json"), "-parallelism=16"]
        )
        with app.store.lock:
            campaigns = [dict(c) for c in app.store.data["campaigns"].values()]
            flaky_count = sum(app.store.data.get("flaky", {}).values())
        starts = sum(1 for r in app.log.matching("POST") if r.path.endswith("/campaigns"))
    output = result.output
    resources = json.loads((work / "state.json").read_text())["resources"]
    missed = {address for address, item in resources.items() if (item.get("attributes") or {}).get("gate_failure")}
    done = {
        name: bool((resources.get(f"kyaraben_campaign.{name}") or {}).get("attributes", {}).get("finished"))
        for name in ("with_retries", "without")
    }
    finished = all(done.values())
    names = {
        c["campaign_name"]: sorted(
            (d["campaign_name"] for d in campaigns if d["campaign_name"].startswith(c["campaign_name"] + "-attempt-")),
        )
        for c in campaigns
        if "-attempt-" not in c["campaign_name"]
    }
    return {
        # A gate passed only where its campaign finished: an apply that failed before proves nothing.
        "with": done["with_retries"] and "kyaraben_campaign.with_retries" not in missed,
        "without": done["without"] and "kyaraben_campaign.without" not in missed,
        "errors": "Traceback" in output or not finished or (result.exit_code == 1 and not missed),
        "error_text": "" if finished else _error_lines(output, result.exception),
        "reruns": passed_reruns(campaigns, names),
        "failed_every_attempt": _failed_every_attempt(campaigns, names),
        "starts": starts,
        "flaky": flaky_count,
        "retry_campaigns": starts - 2,
    }


def seed_in_folder(seed: int, tests: int, flaky: int) -> dict[str, object]:
    """One seed in a temporary folder of its own (the unit a worker process runs)."""
    with tempfile.TemporaryDirectory() as tmp:
        return one_seed(seed, tests, flaky, Path(tmp))


def _failed_every_attempt(campaigns: list[dict], names: dict[str, list[str]]) -> int:
    """Campaign tests of the run with retries that failed all 3 attempts (its third campaign's failures)."""
    chain = [c for c in campaigns if c["campaign_name"] in names.get(_first_of(campaigns, names), [])]
    third = [c for c in chain if c["campaign_name"].endswith("-attempt-3")]
    return len(third[0]["failing"]) if third else 0


def _first_of(campaigns: list[dict], names: dict[str, list[str]]) -> str:
    """The name of the first campaign of the run with retries: the one with attempts after it."""
    return next((first for first, chain in names.items() if chain), "")


def _error_lines(output: str, exception: BaseException | None) -> str:
    """What an apply that did not finish both campaigns said of its errors (and raised), for the per-seed line."""
    said = [line for line in output.splitlines() if "rror" in line or "failed" in line][:4]
    return " | ".join(said + ([repr(exception)] if exception and not isinstance(exception, SystemExit) else []))


def main_bench(seeds: int, tests: int, flaky: int, jobs: int) -> list[Row]:
    started = time.monotonic()
    results = []
    with ProcessPoolExecutor(jobs) as pool:
        for seed, result in enumerate(pool.map(seed_in_folder, range(seeds), [tests] * seeds, [flaky] * seeds)):
            results.append(result)
            print(f"seed {seed}: {result}", file=sys.stderr)
    with_retries, without = _count(results, "with"), _count(results, "without")
    reruns = sum(int(str(r["reruns"])) for r in results)
    errors = sum(bool(r["errors"]) for r in results)
    return [
        Row(f"seeds ({tests} tests x 3 devices, p(fail) 0.3 per flaky attempt)", "", str(seeds), True),
        Row("flaky packages the emulator marked (min-max)", str(flaky), _span(r["flaky"] for r in results), True),
        Row(
            "gate passed, retry attempts 3 only failed_tests",
            f">= {0.99 * seeds:.0f}",
            str(with_retries),
            with_retries >= 0.99 * seeds,
        ),
        Row("gate passed without retries", f"< {seeds / 2:.0f}", str(without), without < seeds / 2),
        Row("passed campaign tests re-run (all seeds)", "0", str(reruns), reruns == 0),
        Row(
            "campaign tests failing all 3 attempts, mean a seed (30 flaky x 0.3^3 = 0.81)",
            "",
            f"{sum(int(str(r['failed_every_attempt'])) for r in results) / len(results):.2f}",
            True,
        ),
        Row("retry campaigns started (all seeds)", "", str(sum(int(str(r["retry_campaigns"])) for r in results)), True),
        Row("applies ending in another error", "0", str(errors), errors == 0),
        Row("wall time", "", f"{time.monotonic() - started:.0f} s", True),
    ]


def _count(results: list[dict[str, object]], key: str) -> int:
    return sum(bool(r[key]) for r in results)


def _span(values) -> str:
    found = list(values)
    return f"{min(found)}-{max(found)}"


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] + [100, 200, 10, 2][len(sys.argv) - 1 :]
    print(markdown(main_bench(*args[:4])))
