"""How many requests, and how long, a plan's refresh takes for many objects of several scopes.

N objects in state: 1/40 of them projects, 1/10 device groups of two devices
each, the rest config parameters spread over the projects (N = 2,000: 50, 200
and 1,750).
They are made by ``labform apply`` at zero latency; then ``labform plan`` runs
with the emulator answering each request after LATENCY seconds (a stand-in for
a real network), and once at zero latency. Refresh reads every listing, every
page after a listing's first (which says the total) and every group's member
listing at once, at most ``--parallelism`` in flight, so:

- calls ≤ ceil(N / page) + scopes + 5, where the scopes are the listings read
  (all projects, all groups, each project's parameters, each group's members);
- the time latency adds (the plan at LATENCY less the plan at zero) is within
  2× of (calls ÷ parallelism) × latency.

    python bench/refresh_batching.py [N] [LATENCY]      # default 2000 0.02
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

from emulated import BITBAR, EmulatorProcess, labform
from table import Row, markdown, median_of

from engine.options import DEFAULT_PARALLELISM
from providers.bitbar.client import PAGE_SIZE

DEVICES = (304, 321)


def plan_text(projects: int, groups: int, parameters: int) -> str:
    blocks = "".join(f"  bitbar_project.p{j}:\n    name: bench-{j}\n    type: ANDROID\n" for j in range(projects))
    blocks += "".join(
        f"  bitbar_device_group.g{j}:\n    name: group-{j}\n    os_type: ANDROID\n    devices: {list(DEVICES)}\n"
        for j in range(groups)
    )
    blocks += "".join(
        f"  bitbar_config_parameter.k{i}:\n    project: ${{bitbar_project.p{i % projects}.id}}\n    key: key{i}\n    value: v{i}\n"
        for i in range(parameters)
    )
    return BITBAR + "resources:\n" + blocks


def refresh_case(objects: int = 2_000, latency: float = 0.02) -> list[Row]:
    projects, groups = max(1, objects // 40), objects // 10
    parameters = objects - projects - groups
    with EmulatorProcess("bitbar") as cloud, tempfile.TemporaryDirectory() as folder:
        Path(folder, "main.yaml").write_text(plan_text(projects, groups, parameters))
        labform(cloud, "apply", folder, "--auto-approve")
        quiet = median_of(3, lambda: labform(cloud, "plan", folder, "--detailed-exitcode", ok=(0,)))
        cloud.set_latency(latency)
        before = len(cloud.requests())
        slow = median_of(3, lambda: labform(cloud, "plan", folder, "--detailed-exitcode", ok=(0,)))
        calls = (len(cloud.requests()) - before) // 3
    scopes = 2 + projects + groups
    bound = math.ceil(objects / PAGE_SIZE) + scopes + 5
    added, ideal = slow - quiet, calls / DEFAULT_PARALLELISM * latency
    what = f"refresh of N = {objects:,} objects ({projects} projects, {groups} device groups, {parameters:,} parameters), {latency * 1000:.0f} ms"
    return [
        Row(
            what + ": calls", f"≤ ceil(N/{PAGE_SIZE}) + {scopes} scopes + 5 = {bound}", f"{calls} calls", calls <= bound
        ),
        Row(
            what + ": time the latency adds",
            f"≤ 2× (calls ÷ {DEFAULT_PARALLELISM}) × latency = {2 * ideal:.2f} s",
            f"{added:.2f} s ({slow:.2f} s less {quiet:.2f} s at zero latency): {added / ideal:.2f}×",
            added <= 2 * ideal,
        ),
    ]


if __name__ == "__main__":
    args = sys.argv[1:]
    print(markdown(refresh_case(int(args[0]) if args else 2_000, float(args[1]) if len(args) > 1 else 0.02)))
