"""Every scale benchmark (issue 12) in one command: goal beside measured, as a Markdown table.

Each case runs labform against a Bitbar emulator in a process of its own, at the
latency the case sets (bench/emulated.py); labform runs as a process of its own
too, except where a case must see inside it (the run waits' warped clock, the
upload's memory and hashing). Figures are medians where a case repeats a run.
The table is what bench/README.md records.

    python bench/run_all.py                  # every case (about 6 minutes on 2 cores)
    python bench/run_all.py refresh runs     # the cases whose name holds one of these words
"""

from __future__ import annotations

import compileall
import sys
import time

import apply_cases
import plan_cases
import refresh_batching
import run_waits
import startup
import upload_memory
from emulated import ROOT
from table import Row, markdown

CASES = {
    "start-up": startup.startup_case,
    "independent creates": apply_cases.independent_creates,
    "added parameters": plan_cases.added_parameters,
    "refresh": refresh_batching.refresh_case,
    "per change cost": apply_cases.per_change_cost,
    "saved plan parallelism": apply_cases.saved_plan_parallelism,
    "unchanged plan": plan_cases.unchanged_plan,
    "runs waits": run_waits.waiting_on_runs,
    "upload": upload_memory.upload_case,
}


def main(words: list[str]) -> int:
    rows: list[Row] = []
    started = time.monotonic()
    # labform as installed: pip byte-compiles a package it installs, and an editable checkout is
    # compiled on first import, unless PYTHONDONTWRITEBYTECODE is set (as on some CI images).
    for package in ("engine", "providers"):
        compileall.compile_dir(ROOT / package, quiet=1)
    for name, case in CASES.items():
        if words and not any(word in name for word in words):
            continue
        print(f"{name}...", file=sys.stderr, flush=True)
        rows += case()
    print(markdown(rows))
    print(f"\n{sum(r.met for r in rows)} of {len(rows)} goals met, {time.monotonic() - started:.0f} s")
    return 0 if all(r.met for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
