"""`labform tests flaky` over 100,000 test results in PostgreSQL (issue 20: answers in <= 1 s).

    PYTHONPATH=. python bench/history_flaky.py       # [--encrypted] [ROWS] [ROUNDS], default 100000 5

Makes a throwaway database on LABFORM_TEST_POSTGRES (default the tests'
127.0.0.1:5432), adds ROWS seeded results through the store (500 tests on 4
clouds, 3 devices each, 40 commits; 5% of the tests flaky, failing an attempt
with probability 0.3 and retried once; 1% broken), then times the command
ROUNDS times: in-process (the store's three queries in one transaction, the
text) and as `labform tests flaky --state URL` in a process of its own
(Python's start included). Prints the medians as a Markdown table, with the
command's own CPU time (user + system, the database's work not included) and
the load average: on a shared machine the wall time is mostly waiting for a core.

--encrypted configures the history target (LABFORM_ENCRYPTION, a pbkdf2 key at its
default 600,000 iterations): the rows hold digests and sealed names, and the command
derives the key once and opens one sealed name per test.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from table import median_of

from labform.engine.history import open_history
from labform.engine.history.figures import FlakyReport
from labform.engine.history.results import Outcome, Result
from tests.fixtures.databases import throwaway_database
from tests.fixtures.postgres import SERVER

CLOUDS = {"bitbar": ["Pixel 7", "Galaxy S9", "Moto G"], "wetest": ["Mi 11", "P40", "Reno"]}
CLOUDS |= {"kyaraben": ["lollipop-phone", "kitkat-tablet", "nougat-phone"], "apptest": ["iPhone 12", "SE", "XR"]}


def rows(count: int, workspace: str, seed: int = 20) -> list[Result]:
    rng = random.Random(seed)
    tests = [f"com.app.feature{i // 25}.Test{i % 25}.case" for i in range(500)]
    flaky, broken = set(tests[::20]), set(tests[7::100])
    made: list[Result] = []
    while len(made) < count:
        commit = f"{rng.getrandbits(160):040x}"
        run = uuid.uuid4().hex
        cloud = rng.choice(list(CLOUDS))
        for device in CLOUDS[cloud]:
            for test in tests:
                seconds = rng.lognormvariate(1.5, 0.8)
                outcomes: list[Outcome] = ["failed"] if test in broken else ["passed"]
                if test in flaky and rng.random() < 0.3:
                    outcomes = ["failed", "passed" if rng.random() < 0.7 else "failed"]
                for attempt, outcome in enumerate(outcomes, 1):
                    made.append(Result(workspace, cloud, test, device, commit, run, "ci", attempt, outcome, seconds))
    return made[:count]


ENCRYPTION = {
    "key_provider": {"pbkdf2": {"bench": {"passphrase": "${env.LABFORM_BENCH_PASSPHRASE}"}}},
    "method": {"aes_gcm": {"bench": {"keys": "key_provider.pbkdf2.bench"}}},
    "history": {"method": "method.aes_gcm.bench", "enforced": True},
}


def main(count: int = 100_000, rounds: int = 5, encrypted: bool = False) -> int:
    if encrypted:  # the subprocess inherits both
        os.environ["LABFORM_BENCH_PASSPHRASE"] = "a passphrase for the benchmark only"
        os.environ["LABFORM_ENCRYPTION"] = json.dumps(ENCRYPTION)
    with throwaway_database(SERVER) as database:
        state = f"{database}?workspace=bench"
        store = open_history(state)
        started = time.perf_counter()
        made = rows(count, store.workspace)
        for start in range(0, len(made), 10_000):
            store.add(made[start : start + 10_000], datetime.now(UTC))
        loaded = time.perf_counter() - started
        since = datetime.now(UTC) - timedelta(days=30)

        def in_process() -> float:
            began = time.perf_counter()
            FlakyReport(store.describe(), since, False, store.figures(store.workspace, since)).text()
            return time.perf_counter() - began

        cpu: list[float] = []

        def command() -> float:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "labform.engine", "tests", "flaky", "--state", state],
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0 and "Flaky tests" in done.stdout and "com.app.feature" in done.stdout, (
                done.stdout + done.stderr
            )
            wall = time.perf_counter() - began
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            return wall

        inside, whole = median_of(rounds, in_process), median_of(rounds, command)
    load = os.getloadavg()[0]
    kind = "encrypted results (history target, pbkdf2 600,000)" if encrypted else "results"
    # In-process the store keeps its key from loading the rows; each process derives it once.
    queries = "4 queries, a name opened per test" if encrypted else "3 queries"
    print(
        f"| {count:,} {kind} in PostgreSQL (loaded in {loaded:.1f} s; load {load:.1f} on {os.cpu_count()} cores) | goal | median of {rounds} | met |"
    )
    print("| --- | ---: | ---: | --- |")
    print(
        f"| tests flaky in-process ({queries}, the text) | <= 1 s | {inside:.3f} s | {'yes' if inside <= 1 else '**no**'} |"
    )
    print(
        f"| `labform tests flaky` as a process (Python start included) | <= 1 s | {whole:.3f} s | {'yes' if whole <= 1 else '**no**'} |"
    )
    print(f"| the command's own CPU time (user + system) | | {statistics.median(cpu):.3f} s | |")
    return 0 if whole <= 1 else 1


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(main(*(int(a) for a in arguments if a != "--encrypted"), encrypted="--encrypted" in arguments))
