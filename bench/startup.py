"""Start-up: ``labform --help`` and ``labform validate`` on a small plan, against ``python -c pass``.

Each command is paired with the yardstick run by run (A B A B ...), and the ratio
is the median of the pairs' ratios, so a machine that speeds up or slows down in
the middle moves both alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emulated import BITBAR, ROOT
from table import Row

PAIRS = 15
PLAN = BITBAR + "resources:\n  bitbar_project.demo:\n    name: demo\n    type: ANDROID\n"
ENVIRONMENT = {"BITBAR_URL": "http://127.0.0.1:9", "BITBAR_API_KEY": "not-used"}


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env={**os.environ, **ENVIRONMENT}, capture_output=True, check=True)
    return time.perf_counter() - started


def ratio(command: list[str], pairs: int = PAIRS) -> float:
    """Median of ``command`` ÷ ``python -c pass``, pair by pair (one warm-up pair first)."""
    yardstick = [sys.executable, "-c", "pass"]
    _seconds(command), _seconds(yardstick)
    return statistics.median(_seconds(command) / _seconds(yardstick) for _ in range(pairs))


def startup_case() -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder, "main.yaml")
        plan.write_text(PLAN)
        helped = ratio([sys.executable, "-m", "labform.engine", "--help"])
        validated = ratio([sys.executable, "-m", "labform.engine", "validate", str(plan)])
    return [
        Row("`labform --help`, × `python -c pass`", "≤ 3×", f"{helped:.1f}×", helped <= 3),
        Row("`labform validate` (small plan), × `python -c pass`", "≤ 8×", f"{validated:.1f}×", validated <= 8),
    ]
