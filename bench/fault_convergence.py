"""Apply every example plan against a sandbox failing a share of requests, many seeds each, and count the outcome.

The bench version of tests/functional/test_fault_convergence.py (same trial:
a fresh ``labform sandbox --failure-rate RATE --seed N`` in its own process,
one apply, one ``plan --detailed-exitcode``, duplicates counted by natural key
in the emulator), with seeds 1..TRIALS per plan instead of 3. Prints a
Markdown table per plan (the figures in bench/README.md) and, per plan, the
failures grouped by their reason.

    python bench/fault_convergence.py [TRIALS] [RATE] [JOBS] [PLAN,PLAN...]

JOBS trials run at once (default 2), each in its own copy of plans/; the
last argument picks some example plans (default: all of them).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the bench package

from bench.fault_trials import EXAMPLES, RATE, FaultTrial, fault_trial  # noqa: E402
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


def main(trials: int, rate: float, jobs: int, examples: tuple[str, ...] = EXAMPLES) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)

        def run(index: int, name: str, seed: int) -> FaultTrial:
            return fault_trial(copy_examples(root / f"copy-{index}"), name, seed, rate)

        pairs = [(name, seed) for name in examples for seed in range(1, trials + 1)]
        with ThreadPoolExecutor(jobs) as pool:
            done = list(pool.map(run, range(len(pairs)), *zip(*pairs, strict=False)))
    print(
        f"fault convergence: {rate:.0%} faults of every kind, seeds 1..{trials} per plan, {time.monotonic() - started:.0f}s\n"
    )
    print("| plan | trials | converged in one apply | duplicate objects | tracebacks | lock left behind |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in examples:
        mine = [t for t in done if t.plan == name]
        duplicates = sum(sum(t.duplicated.values()) for t in mine)
        print(
            f"| {name} | {len(mine)} | {sum(t.converged for t in mine)} | {duplicates} | {sum(t.tracebacks for t in mine)} | {sum(t.lock_left for t in mine)} |"
        )
    for name in examples:
        failing = Counter(reason(p) for t in done if t.plan == name for p in t.problems)
        seeds = [t.seed for t in done if t.plan == name and t.problems]
        if failing:
            print(f"\n{name}: failing seeds {seeds}")
            for line, count in failing.most_common():
                print(f"  {count} x {line}")


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = tuple(args[3].split(",")) if len(args) > 3 else EXAMPLES
    unknown = set(chosen) - set(EXAMPLES)
    if unknown:
        sys.exit(f"no example plan {', '.join(sorted(unknown))} (known: {', '.join(EXAMPLES)})")
    main(
        int(args[0]) if args else 20,
        float(args[1]) if len(args) > 1 else RATE,
        int(args[2]) if len(args) > 2 else 2,
        chosen,
    )
