"""Plans at scale: new objects looked up by natural key in a big scope, and whole plans of
thousands of unchanged resources (with the loader's share of it).

The objects are made by ``labform apply`` at zero latency first; then ``labform
plan`` is measured, as a process of its own, at the latency of the case.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

from emulated import BITBAR, EmulatorProcess, labform
from table import Row, median_of

from labform.engine import loader


def parameters(count: int, projects: int = 1, start: int = 0) -> str:
    """``projects`` projects and ``count`` config parameters spread over them."""
    blocks = "".join(f"  bitbar_project.p{j}:\n    name: bench-{j}\n    type: ANDROID\n" for j in range(projects))
    blocks += "".join(
        f'  bitbar_config_parameter.k{i}:\n    project: ${{bitbar_project.p{i % projects}.id}}\n    key: key{i}\n    value: "v{i}"\n'
        for i in range(start, count)
    )
    return BITBAR + "resources:\n" + blocks


def added_parameters(held: int = 500, added: int = 100, latency: float = 0.02) -> list[Row]:
    with EmulatorProcess("bitbar") as cloud, tempfile.TemporaryDirectory() as folder:
        plan = Path(folder, "main.yaml")
        plan.write_text(parameters(held))
        labform(cloud, "apply", folder, "--auto-approve")
        plan.write_text(parameters(held + added))
        cloud.set_latency(latency)
        before = len(cloud.requests())
        seconds = labform(cloud, "plan", folder)
        gets = sum(r["method"] == "GET" for r in cloud.requests()[before:])
    return [
        Row(
            f"plan adding {added} config parameters to a project that holds {held}, {latency * 1000:.0f} ms",
            "one listing per scope: ≤ 12 GETs",
            f"{gets} GETs, {seconds:.2f} s",
            gets <= 12,
        )
    ]


def _load_seconds(folder: str, fast: bool) -> float:
    """One in-process load of the plan folder, the fast way or (forced) the round-trip way."""
    with nullcontext() if fast else mock.patch.object(loader, "_plain_document", side_effect=loader._NotPlain):
        started = time.perf_counter()
        loader.load(Path(folder))
        return time.perf_counter() - started


# The code before the issue's loader and planner work, checked out by `git worktree add DIR
# f68d15d` (the oldest that reads today's state): with LABFORM_BENCH_BASELINE=DIR the plan of
# 5,000 is also timed against it, pair by pair, so the issue's goal (1.5 s where that code took
# 3.07 s) is checked as a ratio, whatever the speed of the machine.
BASELINE = os.environ.get("LABFORM_BENCH_BASELINE")
ISSUE_SECONDS, GOAL_SECONDS = 3.07, 1.5


def unchanged_plan(sizes: tuple[int, int] = (5_000, 10_000)) -> list[Row]:
    """A plan of N resources that all exist unchanged (N / 100 projects, the rest parameters)."""
    planned, loads, against = {}, {}, None
    for size in sizes:
        with EmulatorProcess("bitbar") as cloud, tempfile.TemporaryDirectory() as folder:
            Path(folder, "main.yaml").write_text(parameters(size, projects=size // 100))
            labform(cloud, "apply", folder, "--auto-approve")
            planned[size] = median_of(3, lambda: labform(cloud, "plan", folder, "--detailed-exitcode", ok=(0,)))
            loads[size] = (median_of(3, lambda: _load_seconds(folder, True)), _load_seconds(folder, False))
            if BASELINE and size == sizes[0]:
                against = median_of(
                    3,
                    lambda: (
                        labform(cloud, "plan", folder, "--detailed-exitcode", ok=(0,))
                        / labform(cloud, "plan", folder, "--detailed-exitcode", ok=(0,), checkout=Path(BASELINE))
                    ),
                )
    small, large = sizes
    paired = (
        []
        if against is None
        else [
            Row(
                f"plan of {small:,} unchanged resources, × the code before this work (f68d15d; {ISSUE_SECONDS} s in the issue), paired",
                f"≤ {GOAL_SECONDS / ISSUE_SECONDS:.2f}× ({GOAL_SECONDS} s of {ISSUE_SECONDS} s)",
                f"{against:.2f}× (≈ {against * ISSUE_SECONDS:.2f} s on the issue's machine)",
                against <= GOAL_SECONDS / ISSUE_SECONDS,
            )
        ]
    )
    return paired + [
        Row(
            f"plan of {small:,} unchanged resources (whole process)",
            "≤ 1.5 s",
            f"{planned[small]:.2f} s",
            planned[small] <= 1.5,
        ),
        Row(
            f"plan of {large:,} unchanged resources (whole process)",
            f"≤ 2× of {small:,}",
            f"{planned[large]:.2f} s: {planned[large] / planned[small]:.2f}×",
            planned[large] / planned[small] <= 2,
        ),
        Row(
            f"loading the plan files of {small:,} / {large:,} resources (in process)",
            "named choice, its figures",
            f"libyaml composer + one walk for positions: {loads[small][0]:.2f} / {loads[large][0]:.2f} s; "
            f"the round-trip loader: {loads[small][1]:.2f} / {loads[large][1]:.2f} s",
            True,
        ),
    ]
