"""One row of the scale benchmarks' table (bench/run_all.py): what, the goal, what was measured, met or not."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    what: str
    goal: str
    measured: str
    met: bool


def markdown(rows: list[Row]) -> str:
    lines = ["| what | goal | measured | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {row.what} | {row.goal} | {row.measured} | {'yes' if row.met else '**no**'} |" for row in rows]
    return "\n".join(lines)


def median_of(runs: int, measure: Callable[[], float]) -> float:
    """The median of ``runs`` measurements (this machine is noisy: one figure is not enough)."""
    return statistics.median(measure() for _ in range(runs))


def projects(count: int, prefix: str = "p") -> str:
    """``count`` independent bitbar_project blocks."""
    return "".join(f"  bitbar_project.{prefix}{i}:\n    name: {prefix}{i}\n    type: ANDROID\n" for i in range(count))
