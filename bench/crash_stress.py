"""SIGKILL ``labform apply`` at many seeded moments and count what the next commands make of it.

The stress version of tests/functional/test_crash_recovery.py (same plan: a
Bitbar project, a device group, two uploads and a run waited on; same
sandbox in its own process, same checks), with TRIALS kills instead of 10.
Prints a Markdown table (the figures in bench/README.md) and the failing
trials with the key lines of labform's output.

    python bench/crash_stress.py [TRIALS] [SEED]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the bench package

from bench.crash_trials import SEED, crash_trials, describe, sandbox  # noqa: E402


def main(trials: int, seed: int) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with sandbox(root / "sandbox") as served:
            done = crash_trials(served, root, trials, seed)
    killed = [t for t in done if t.killed]
    rows = [
        ("trials (apply SIGKILLed while running)", len(killed)),
        ("state and journal load (`state list` exit 0)", sum(t.loads for t in killed)),
        ("converged in one apply after the kill", sum(t.converged for t in killed)),
        ("`plan --detailed-exitcode` exit 0 after it", sum(t.clean_plan for t in killed)),
        ("duplicate remote objects (projects, groups, runs)", sum(t.duplicates for t in killed)),
        ("tracebacks / internal errors", sum(t.tracebacks for t in killed)),
        ("lock left behind (next apply refused)", sum(t.lock_left for t in killed)),
    ]
    print(f"crash stress: {len(killed)} kills, seed {seed}, {time.monotonic() - started:.0f}s\n")
    print("| figure | count |\n| --- | ---: |")
    for label, count in rows:
        print(f"| {label} | {count} |")
    failed = [t for t in killed if t.problems]
    print(f"\n{len(failed)} trial(s) failed" + (":\n\n" + "\n\n".join(map(describe, failed)) if failed else "."))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100, int(sys.argv[2]) if len(sys.argv) > 2 else SEED)
