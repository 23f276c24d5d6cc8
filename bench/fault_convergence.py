"""Apply every example plan against a sandbox failing a share of requests, many seeds each, and count the outcome.

The bench version of tests/functional/test_fault_convergence.py (same trial,
bench/fault_trials.py: a fresh ``labform sandbox --failure-rate RATE --seed N``
in its own process, applies until one converges, each refused create resolved
from the emulator's store, duplicates counted by natural key in the emulator
across all the applies), with seeds 1..TRIALS per plan and rate. Prints a
Markdown table (the figures in bench/README.md) and, per plan and rate, the
problems grouped by their reason.

    python bench/fault_convergence.py [TRIALS] [RATE,RATE...] [JOBS] [PLAN,PLAN...]

Rates default to 0.3,0.1; JOBS trials run at once (default 2), each in its own
copy of plans/; the last argument picks some example plans (default: all).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the bench package

from bench.fault_trials import EXAMPLES, RATES, READ_ONLY, FaultTrial, fault_trial  # noqa: E402
from bench.sandbox_harness import copy_examples  # noqa: E402

# What differs between trials that failed the same way: ports, ids, and the garbled body itself.
_PORT_OR_ID = re.compile(r"127\.0\.0\.1:\d+|\b[0-9a-f]{16,}\b|\b\d{4,}\b")
_BODY = re.compile(r"\('(?:[^'\\]|\\.)*'\)")


def _body_kind(match: re.Match) -> str:
    text = match.group(0)
    return (
        "(an HTML page)"
        if "<!DOCTYPE" in text
        else "(an empty body)"
        if "an empty body" in text
        else "(a truncated body)"
    )


def reason(problem: str) -> str:
    """Why a trial failed, the same words for the same failure: what failed, and labform's error or the change it still plans."""
    what, *lines = problem.splitlines()  # then, for a failed command, its key lines
    for telling in (r"internal error", r"^\s*Error:|: failed: ", r"# \S+ (will|must)"):
        said = next((line.strip() for line in lines if re.search(telling, line)), None)
        if said:
            return f"{what}: {_PORT_OR_ID.sub('N', _BODY.sub(_body_kind, said))}"
    return what if not lines else f"{what}: (no error line)"


# perfecto-gate (READ_ONLY) makes no remote object: it counts for convergence, never for duplicates.
PLANS = EXAMPLES + READ_ONLY
COLUMNS = (
    "plan | rate | trials | converged in one apply | converged after resolving | refusals seen"
    " | resolved by id / not created | duplicate objects | tracebacks | lock left behind"
)


def row(name: str, rate: float, mine: list[FaultTrial]) -> str:
    figures = (
        len(mine),
        sum(t.in_one_apply for t in mine),
        sum(t.after_resolving for t in mine),
        sum(t.refusals for t in mine),
        f"{sum(t.by_id for t in mine)} / {sum(t.not_created for t in mine)}",
        sum(sum(t.duplicated.values()) for t in mine),
        sum(t.tracebacks for t in mine),
        sum(t.lock_left for t in mine),
    )
    return f"| {name} | {rate:.0%} | " + " | ".join(str(f) for f in figures) + " |"


def main(trials: int, rates: tuple[float, ...], jobs: int, plans: tuple[str, ...] = PLANS) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)

        def run(index: int, name: str, rate: float, seed: int) -> FaultTrial:
            return fault_trial(copy_examples(root / f"copy-{index}"), name, seed, rate)

        cases = [(name, rate, seed) for rate in rates for name in plans for seed in range(1, trials + 1)]
        with ThreadPoolExecutor(jobs) as pool:
            done = list(pool.map(run, range(len(cases)), *zip(*cases, strict=True)))
    print(
        f"fault convergence: faults of every kind, seeds 1..{trials} per plan and rate, {time.monotonic() - started:.0f}s\n"
    )
    print(f"| {COLUMNS} |")
    print("| --- | ---: |" + " ---: |" * (COLUMNS.count("|") - 1))
    for rate in rates:
        for name in plans:
            print(row(name, rate, [t for t in done if t.plan == name and t.rate == rate]))
    for rate in rates:
        for name in plans:
            mine = [t for t in done if t.plan == name and t.rate == rate]
            failing = Counter(reason(p) for t in mine for p in t.problems)
            if failing:
                print(f"\n{name} at {rate:.0%}: seeds with problems {[t.seed for t in mine if t.problems]}")
                for line, count in failing.most_common():
                    print(f"  {count} x {line}")
            held = [(t.seed, t.endings) for t in mine if len(t.endings) > 1]
            if held:
                print(f"\n{name} at {rate:.0%}: applies of the trials not converged in one (seed, endings): {held}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Fault convergence: every example plan under faults, many seeds.")
    parser.add_argument("trials", nargs="?", type=int, default=20, help="seeds per example and rate [20]")
    parser.add_argument("rates", nargs="?", default=",".join(map(str, RATES)), help="fault rates, e.g. 0.3,0.1")
    parser.add_argument("jobs", nargs="?", type=int, default=2, help="trials at once [2]")
    parser.add_argument("plans", nargs="?", default=",".join(PLANS), help="example plans, comma-separated")
    args = parser.parse_args()
    chosen = tuple(args.plans.split(","))
    unknown = set(chosen) - set(PLANS)
    if unknown:
        parser.error(f"no example plan {', '.join(sorted(unknown))} (known: {', '.join(PLANS)})")
    main(args.trials, tuple(float(r) for r in args.rates.split(",")), args.jobs, chosen)
