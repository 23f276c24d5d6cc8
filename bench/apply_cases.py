"""Applies at scale: many independent creates at latency, the cost per change as state grows,
and ``apply FILE --parallelism N`` against the plan's own value.

Each measurement is a ``labform apply`` process against a fresh Bitbar emulator
in a process of its own (bench/emulated.py), so no run sees another's objects.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from emulated import BITBAR, EmulatorProcess, labform
from table import Row, median_of, projects


def _apply(count: int, latency: float, *flags: str) -> float:
    """Seconds for one apply of ``count`` new projects at ``latency`` on a fresh emulator."""
    with EmulatorProcess("bitbar") as cloud, tempfile.TemporaryDirectory() as folder:
        Path(folder, "main.yaml").write_text(BITBAR + "resources:\n" + projects(count))
        cloud.set_latency(latency)
        return labform(cloud, "apply", folder, "--auto-approve", *flags)


def independent_creates(count: int = 200, latency: float = 0.05, parallelism: int = 16) -> list[Row]:
    flags = ("--parallelism", str(parallelism))
    quiet = median_of(3, lambda: _apply(count, 0.0, *flags))
    slow = median_of(3, lambda: _apply(count, latency, *flags))
    ideal = math.ceil(count / parallelism) * latency + quiet
    return [
        Row(
            f"whole `apply` of {count} independent creates, {latency * 1000:.0f} ms latency, `--parallelism {parallelism}`",
            f"≤ 1.3× ideal (ceil({count}/{parallelism}) × {latency * 1000:.0f} ms + the zero-latency run)",
            f"{slow:.2f} s vs an ideal of {ideal:.2f} s: {slow / ideal:.2f}×",
            slow / ideal <= 1.3,
        )
    ]


def per_change_cost(small: int = 1_000, large: int = 10_000) -> list[Row]:
    """Zero latency: what is left is labform's own cost per change (state recording, the walk)."""
    per_small = _apply(small, 0.0) / small
    per_large = _apply(large, 0.0) / large
    return [
        Row(
            f"apply of {small:,} / {large:,} creates at zero latency, time per change",
            f"at {large:,} within 1.5× of that at {small:,}",
            f"{per_small * 1000:.2f} / {per_large * 1000:.2f} ms: {per_large / per_small:.2f}×",
            per_large / per_small <= 1.5,
        )
    ]


def _most_in_flight(requests: list[dict]) -> int:
    """The most requests the emulator was answering at one moment."""
    edges = sorted([(r["started"], 1) for r in requests] + [(r["finished"], -1) for r in requests])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def saved_plan_parallelism(count: int = 64, saved: int = 4, given: int = 16, latency: float = 0.05) -> list[Row]:
    with EmulatorProcess("bitbar") as cloud, tempfile.TemporaryDirectory() as folder:
        Path(folder, "main.yaml").write_text(BITBAR + "resources:\n" + projects(count))
        plan_file = str(Path(folder, "tfplan"))
        labform(cloud, "plan", folder, "--parallelism", str(saved), "--out", plan_file)
        cloud.set_latency(latency)
        before = len(cloud.requests())
        labform(cloud, "apply", plan_file, "--parallelism", str(given))
        creates = [r for r in cloud.requests()[before:] if r["method"] == "POST"]
    most = _most_in_flight(creates)
    return [
        Row(
            f"`apply FILE --parallelism {given}` of a plan saved with `--parallelism {saved}`",
            f"the flag wins: {given} in flight",
            f"{most} in flight",
            most == given,
        )
    ]
