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

A listing proves presence, never absence: an object it leaves out is read on
its own (a confirmation read) before the plan calls it deleted. With every
object listed there are none; then 1/100 of the parameters are deleted through
the API, and the next plan makes exactly one confirmation read for each (counted
apart from the listing calls, which stay within the bound above).

    python bench/refresh_batching.py [N] [LATENCY]      # default 2000 0.02
"""

from __future__ import annotations

import json
import math
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from emulated import BITBAR, EmulatorProcess, labform
from table import Row, markdown, median_of

from labform.engine.options import DEFAULT_PARALLELISM
from labform.providers.bitbar.client import ME, PAGE_SIZE

DEVICES = (304, 321)
# A GET of one object (a project, a group, a parameter), not of a listing: refresh's confirmation reads.
ONE_OBJECT = re.compile(r"/(projects|device-groups|config/parameters)/\d+$")


def split_reads(requests: list[dict[str, Any]]) -> tuple[int, int]:
    """(listing calls, confirmation reads) among ``requests``."""
    confirming = sum(r["method"] == "GET" and ONE_OBJECT.search(r["path"]) is not None for r in requests)
    return len(requests) - confirming, confirming


def delete_parameters(cloud: EmulatorProcess, folder: str, count: int) -> None:
    """Delete ``count`` of the applied parameters through the API, behind labform's back."""
    resources = json.loads(Path(folder, "labform.state.json").read_text())["resources"]
    parameters = [r for key, r in sorted(resources.items()) if key.startswith("bitbar_config_parameter.")]
    with httpx.Client(base_url=cloud.url, auth=(cloud.settings["api_key"], "")) as api:
        for parameter in parameters[:count]:
            project = parameter["attributes"]["project"]
            api.delete(f"{ME}/projects/{project}/config/parameters/{parameter['id']}").raise_for_status()


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
        after = cloud.requests()
        calls, confirmed = (n // 3 for n in split_reads(after[before:]))
        cloud.set_latency(0)
        gone = max(1, parameters // 100)
        delete_parameters(cloud, folder, gone)
        before = len(cloud.requests())
        labform(cloud, "plan", folder, "--detailed-exitcode", ok=(2,))
        calls_gone, confirmed_gone = split_reads(cloud.requests()[before:])
    scopes = 2 + projects + groups
    bound = math.ceil(objects / PAGE_SIZE) + scopes + 5
    added, ideal = slow - quiet, (calls + confirmed) / DEFAULT_PARALLELISM * latency
    what = f"refresh of N = {objects:,} objects ({projects} projects, {groups} device groups, {parameters:,} parameters), {latency * 1000:.0f} ms"
    return [
        Row(
            what + ": calls", f"≤ ceil(N/{PAGE_SIZE}) + {scopes} scopes + 5 = {bound}", f"{calls} calls", calls <= bound
        ),
        Row(what + ": confirmation reads, every object listed", "0", f"{confirmed}", confirmed == 0),
        Row(
            f"the same with {gone} parameters deleted: confirmation reads (one GET each), listing calls",
            f"{gone}; ≤ {bound}",
            f"{confirmed_gone}; {calls_gone}",
            confirmed_gone == gone and calls_gone <= bound,
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
