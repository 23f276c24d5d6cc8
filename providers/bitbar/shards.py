"""A sharded bitbar_run: a lane of runs per shard, one class (or package) each.

The doc's run selects one class or package (the run config's limitationType
and limitationValue), so a shard of several units is a lane: its units' runs
one after another, every lane at once. Each is started by the vendor client's
run start with a config of its own (never the project's, which the plan may
manage) on the project's device group, and kept in state (``shard_runs``) the
moment Bitbar answers; ``advance`` starts a lane's next unit once its run
finished. A start whose answer was lost is found again among the project's
runs newer than the newest before the first (``shard_floor``) whose own config
selects that unit and which no lane holds.

The run's id is the first lane's first run, named as the plan names the run;
the others are named ``<name> shard K: UNIT``. Each device is judged by all
its runs: ``device_runs`` keeps one per device (SUCCEEDED when each of its runs
succeeded, its cases summed) and ``success_ratio`` is their share, as the
cloud's own ratio counts devices.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from labform.providers.base import Attrs, Context
from labform.providers.bitbar.client import ME, listing, project_path
from labform.providers.bitbar.client import client_of as _client
from labform.providers.errors import ProviderError

SUCCEEDED = ("SUCCEEDED", "WARNING")
Summary = Callable[[dict[str, Any]], dict[str, Any]]  # a device run as the run's attributes keep it


def units_of(recorded: Sequence[str], by: str) -> list[str]:
    """The classes (or packages) of the tests history recorded on Bitbar: what a run can select."""
    classes = [test.rpartition(".")[0] for test in recorded if "." in test]
    return list(
        dict.fromkeys(c.rpartition(".")[0] or c for c in classes) if by == "package" else dict.fromkeys(classes)
    )


def kind(desired: Attrs) -> str:
    return "PACKAGE" if desired.get("shard_by") == "package" else "CLASS"


def _runs_path(project: Any, id: Any = None) -> str:
    base = f"{project_path(project)}/runs"
    return base if id is None else f"{base}/{id}"


class Lanes:
    """Starts and follows the lanes of one sharded run (``base``: the name the plan gives the run)."""

    def __init__(self, ctx: Context, desired: Attrs, base: str):
        self.ctx, self.desired, self.base = ctx, desired, base
        self.project = desired["project"]
        self.lanes: list[list[str]] = [shard["units"] for shard in desired["shard_plan"]["shards"]]

    def name(self, lane: int, unit: str) -> str:
        return self.base if (lane, unit) == (1, self.lanes[0][0]) else f"{self.base} shard {lane}: {unit}"

    def start(self, attrs: Attrs, save: Callable[[Attrs], None]) -> Attrs:
        """The first unit of each lane not started yet (``attrs``: what state holds of the run)."""
        attrs = dict(attrs)
        if "shard_floor" not in attrs:
            newest = next(
                iter(_client(self.ctx).list(_runs_path(self.project), "list runs", sort="createTime_d")), None
            )
            attrs["shard_floor"] = int(newest["id"]) if newest else 0
        attrs.setdefault("shard_runs", [])
        for lane, units in enumerate(self.lanes, 1):
            if not any(r["shard"] == lane for r in attrs["shard_runs"]):
                attrs = self._start_unit(attrs, lane, units[0], save)
        return attrs

    def advance(self, attrs: Attrs, read: Attrs) -> Attrs | None:
        """Each lane whose last run ``read`` says FINISHED starts its next unit (``attrs``: the runs
        started, which the read may not know yet); None when none did."""
        states = {r["id"]: r.get("state") for r in read.get("shard_runs") or []}
        started = None
        for lane, units in enumerate(self.lanes, 1):
            runs = [r for r in attrs["shard_runs"] if r["shard"] == lane]
            if runs and states.get(runs[-1]["id"]) == "FINISHED" and len(runs) < len(units):
                started = attrs = self._start_unit(attrs, lane, units[len(runs)], self.ctx.record)
        return started

    @functools.cached_property
    def _starts(self) -> tuple[str, Any]:
        """Where a unit's run is started (the user's runs) and on which device group (the project's):
        read once for all the units this call starts."""
        user = _client(self.ctx).get(ME, "read user")["id"]
        config = _client(self.ctx).get(f"{project_path(self.project)}/config", "read project config")
        return f"/api/v2/users/{user}/runs", config.get("usedDeviceGroupId")

    def _start_unit(self, attrs: Attrs, lane: int, unit: str, save: Callable[[Attrs], None]) -> Attrs:
        config = {"projectId": self.project, "limitationType": kind(self.desired), "limitationValue": unit}
        path, group = self._starts
        if group is not None:
            config["deviceGroupId"] = group
        try:
            run = _client(self.ctx).post_json(path, "start run", config)
        except ProviderError as error:  # started or not? the project's runs say
            run = self._unrecorded(attrs, unit) if error.ambiguous else None
            if run is None:
                raise
        entry = {"shard": lane, "unit": unit, "id": run["id"]}
        attrs = {**attrs, "id": attrs["shard_runs"][0]["id"] if attrs["shard_runs"] else run["id"]}
        attrs["shard_runs"] = [*attrs["shard_runs"], entry]
        save({**attrs, "name": self.base})
        self.ctx.progress(f"run {run['id']}: shard {lane} runs {kind(self.desired)} {unit}")
        # Named as the plan names the run (a rename is safe to resend), so the cloud's list reads as the plan does.
        path = _runs_path(self.project, run["id"])
        _client(self.ctx).post(path, "rename run", {"name": self.name(lane, unit)}, idempotent=True)
        return attrs

    def _unrecorded(self, attrs: Attrs, unit: str) -> dict[str, Any] | None:
        """A run this one started for ``unit`` that state never recorded (its answer lost)."""
        known = {str(r["id"]) for r in attrs["shard_runs"]}
        for run in listing(self.ctx, _runs_path(self.project), "find run"):
            if str(run["id"]) in known or int(run["id"]) <= attrs["shard_floor"]:
                continue
            config = _client(self.ctx).get(f"{_runs_path(self.project, run['id'])}/config", "read run config")
            if config.get("limitationType") == kind(self.desired) and config.get("limitationValue") == unit:
                return dict(run)
        return None


def progress(ctx: Context, attrs: Attrs, desired_lanes: int, units: int, summary: Summary) -> tuple[bool, str, Attrs]:
    """(finished, text, attributes) of every lane's runs: finished when each unit's run is."""
    runs: list[dict[str, Any]] = []
    devices: dict[str, list[dict[str, Any]]] = {}
    for started in attrs["shard_runs"]:
        run = _client(ctx).get(_runs_path(attrs["project"], started["id"]), "read run")
        path = f"{_runs_path(attrs['project'], started['id'])}/device-runs"
        device_runs = [summary(d) for d in _client(ctx).list(path, "list device runs")]
        runs.append({**started, "state": run.get("state"), "device_runs": device_runs})
        for device_run in device_runs:
            devices.setdefault(device_run["device"], []).append(device_run)
    done = sum(r["state"] == "FINISHED" for r in runs)
    finished = done == len(runs) == units
    judged = [_device(found) for found in devices.values()]
    succeeded = sum(d["status"] in SUCCEEDED for d in judged)
    text = f"{desired_lanes} shards: runs {done}/{units} finished"
    found = {
        "shard_runs": runs,
        "device_runs": judged,
        "state": "FINISHED" if finished else "RUNNING",
        "success_ratio": succeeded / len(judged) if judged else 0.0,
    }
    return finished, text, found


def _device(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One device over all its runs: its first run's device run id, succeeded when each run did."""
    status = "SUCCEEDED" if all(r["status"] in SUCCEEDED for r in runs) else "FAILED"
    passed, cases = sum(r["passed"] for r in runs), sum(r["cases"] for r in runs)
    return {"id": runs[0]["id"], "device": runs[0]["device"], "status": status, "passed": passed, "cases": cases}
