"""bitbar_run: a test run in a project, started once per distinct set of triggers; bitbar_run_tag: a tag on one.

What runs is decided by the project (its config and uploaded files); the run
resource starts it and, with ``wait``, follows it to FINISHED, then writes
JUnit, downloads artifacts and checks the gate (see providers/runs.py).

Each device run's junit.xml (the doc's device-run test results) gives the run's
record of test cases (providers/run_record.py), a case recorded under its
device run's id; a device run that reports no test case and did not succeed is
one case, an error. ``retry`` re-runs what failed:

- ``failed_devices``: the device runs with a failed case, through the retry call
  of the official client (``POST runs/{runId}/retry?deviceRunIds[]=``, the
  vendor-client set): the same run and device run ids, a new attempt of each;
  ``all`` retries every device run so;
- ``failed_tests``: each test class with a failed case (``by: package``: each
  package) as a run of its own, started by the vendor client's run start with
  ``limitationType`` CLASS (PACKAGE) and ``limitationValue`` the class: the
  run's own config, never the project's, which the plan may manage. It runs on
  the first run's device group, every device of it; its results count on their
  device as further attempts. Each run is kept in state as soon as Bitbar
  answers it, so a killed apply starts only the classes not started yet.

The gate's ``min_success_ratio`` is the cloud's ``successRatio``: the share of
*devices* that succeeded (after a run per class, each device by its last
attempt; a device whose only failing tests are quarantined succeeded), said
beside the record's test counts; ``min_pass_rate``, ``flaky`` and
``quarantine`` read the record (providers/runs.py TestGate).
"""

from __future__ import annotations

import builtins
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from labform.providers.base import Arguments, Attrs, Context, ResourceType, RunFacts, arg
from labform.providers.bitbar import shards
from labform.providers.bitbar.admission import RunBudget
from labform.providers.bitbar.client import ME, listing
from labform.providers.bitbar.client import client_of as _client
from labform.providers.bitbar.client import project_path as _project_path
from labform.providers.bitbar.resources import _first_named
from labform.providers.errors import ProviderError
from labform.providers.mapping import FieldMap
from labform.providers.polling import wait_for
from labform.providers.run_record import FAILING, CaseRecord, CaseResult, Outcome, RunRecord, seconds_of
from labform.providers.runs import (
    RetryPolicy,
    RunArguments,
    RunProgress,
    RunResource,
    TestGate,
    judged,
    per_device,
    recorded,
    shard_field,
)

Artifact = Literal["logs", "screenshots", "junit", "summary_pdf", "failures_csv"]
ARTIFACTS: tuple[Artifact, ...] = get_args(Artifact)
FAILED = ("FAILED",)
# The device runs the cloud's successRatio counts as succeeded (a WARNING passed its tests).
SUCCEEDED = ("SUCCEEDED", "WARNING")


class BitbarGate(TestGate):
    """When a finished run passes: the cloud's device bar, the record's test bars, or both."""

    min_success_ratio: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Share of device runs that must succeed (the cloud's successRatio counts devices, not tests).",
    )

    @model_validator(mode="after")
    def _some_bar(self) -> BitbarGate:
        if self.min_success_ratio is None and self.min_pass_rate is None and self.flaky != "fail":
            raise ValueError("set min_success_ratio (devices), min_pass_rate (test cases) or flaky: fail")
        return self


class ArtifactsPolicy(BaseModel):
    """What to download once the run finished."""

    model_config = ConfigDict(extra="forbid")
    dir: str = Field(description="Local folder they are written to, one subfolder per device.")
    include: list[Artifact] = Field(
        list(ARTIFACTS), description="Which artifacts to download (all of them by default)."
    )


class RunRetry(RetryPolicy):
    forms: ClassVar[dict[str, str]] = {
        "failed_devices": "the device runs with a failed test, by the retry call (the same run)",
        "failed_tests": "each class (by: package, each package) with a failed test, a run each",
        "all": "every device run, by the retry call",
    }
    cloud: ClassVar[str] = "bitbar"

    by: Literal["class", "package"] = Field(
        "class",
        description="failed_tests: a run per failed test's class (limitationType CLASS) or package (PACKAGE).",
    )

    @model_validator(mode="after")
    def _by_failed_tests(self) -> RunRetry:
        if "by" in self.model_fields_set and self.only != "failed_tests":
            raise ValueError(f"'by' chooses how failed_tests re-runs; only: {self.only} re-runs device runs")
        return self


class RunArgs(RunArguments):
    retry: RunRetry | None = arg(
        None,
        local=True,
        description="Re-run the failed device runs or test classes, up to attempts in total (needs wait).",
    )
    project: int = arg(
        force_new=True, description="Project id whose config and files the run uses, e.g. ${bitbar_project.NAME.id}."
    )
    name: str | None = arg(None, description="Run name; changes in place.")
    gate: BitbarGate | None = arg(
        None, local=True, description="Fail the apply when the finished run misses these bars (needs wait)."
    )
    artifacts: ArtifactsPolicy | None = arg(None, local=True, description="Download these after the run finished.")
    budget: RunBudget | None = arg(None, local=True, description="Fail the plan when its estimate is over this.")
    shard_by: Literal["class", "package"] = arg(
        "class",
        force_new=True,
        description="With shards: the unit a run selects (limitationType CLASS or PACKAGE), from the tests "
        "history recorded on Bitbar; each shard runs its units one after another, the shards at once.",
    )


def _run_attrs(run: dict[str, Any]) -> Attrs:
    return {
        "id": run["id"],
        "number": run.get("number"),
        "name": run.get("displayName"),
        "state": run.get("state"),
        "success_ratio": run.get("successRatio"),
        "execution_ratio": run.get("executionRatio"),
    }


def _state_text(run: dict[str, Any]) -> str:
    ratio = run.get("executionRatio")
    return f"{run['state']}, " + (f"{ratio * 100:.0f}% executed" if ratio is not None else "not started")


def _device_run_summary(device_run: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": device_run["id"],
        "device": (device_run.get("device") or {}).get("displayName") or device_run.get("deviceName"),
        "status": device_run.get("runStatus"),
        "passed": int(device_run.get("testCaseSuccessNo") or 0),
        "cases": int(device_run.get("testCaseAllNo") or 0),
    }


class Run(RunResource):
    """A test run of a project, started once per distinct triggers; wait, gate, junit and artifacts follow it."""

    type_name = "bitbar_run"
    cloud = "bitbar"
    cannot_shard = None  # a lane of runs per shard, one class or package each (shards.py)
    Args = RunArgs
    computed = ("id", "number", "state", "success_ratio", "execution_ratio", "device_runs")
    # The name is the plan's, or a marker from the address and triggers (RunResource.marker).
    natural_key = ("project", "name")

    @staticmethod
    def _path(project: Any, id: Any = None) -> str:
        base = f"{_project_path(project)}/runs"
        return base if id is None else f"{base}/{id}"

    # --- plain resource calls ---------------------------------------------
    def read(self, ctx, id, prior):
        return {
            **_run_attrs(_client(ctx).get(self._path(prior["project"], id), "read run")),
            "project": prior["project"],
        }

    def list_scope(self, attrs):
        return ("project", attrs["project"])

    def list(self, ctx, scope):
        for run in listing(ctx, self._path(scope[1]), "list runs"):
            yield {**_run_attrs(run), "project": scope[1]}

    def estimate(self, ctx, desired):
        """The cloud's prices: the project config's, and its device group's."""
        config = _client(ctx).get(f"{_project_path(desired['project'])}/config", "read project config")
        group_id = config.get("usedDeviceGroupId")
        group = _client(ctx).get(f"{ME}/device-groups/{group_id}", "read device group") if group_id else {}
        return (
            f"~ {config.get('creditsPrice', 0)} credits (project config; device group "
            f"'{group.get('displayName', group_id)}' costs {group.get('creditsPrice', 0)} credits)"
        )

    def check(self, desired):
        problems = super().check(desired)
        field = shard_field(desired)
        if problems or field is None:
            return problems
        if not desired.get("wait"):
            return [(field, "a sharded run needs 'wait': each shard's runs start one after another")]
        if (desired.get("retry") or {}).get("only") not in (None, "failed_tests"):
            return [("retry", "a sharded run re-runs failed_tests only (a device's tests ran in several runs)")]
        return []

    def shard_units(self, written, recorded=()):
        """The classes (``shard_by: package``: packages) of the tests history recorded on Bitbar."""
        return shards.units_of(recorded, str(written.get("shard_by") or "class"))

    # --- run hooks ----------------------------------------------------------
    def candidates(self, ctx, desired):
        """Runs of the project with this run's name (or its marker), with their creation times."""
        name, project = desired.get("name") or self.marker(ctx, desired), desired["project"]
        runs = ctx.listings.get(
            (self.type_name, "created", project), lambda: listing(ctx, self._path(project), "find run")
        )
        return [
            {
                **_run_attrs(run),
                "project": project,
                **({"created_at": run["createTime"] / 1000} if run.get("createTime") else {}),
            }
            for run in runs
            if run.get("displayName") == name
        ]

    def start(self, ctx, desired):
        # labform's rule, not the cloud's (it starts the run and excludes every device): a run the
        # project cannot run is not started, so it costs nothing and the error says why.
        config = _client(ctx).get(f"{_project_path(desired['project'])}/config", "read project config")
        if config.get("runAvailable") is False:
            raise ProviderError(
                "bitbar",
                "start run",
                None,
                f"project {desired['project']} cannot run tests yet (its config says runAvailable: false): it needs an "
                "application file, a test file in FULL_RUN and UIAUTOMATOR modes, and a device group with devices",
            )
        if desired.get("shard_plan"):
            return self.restart(ctx, desired, {"project": desired["project"]})
        form = {"name": desired.get("name") or self.marker(ctx, desired)}
        run = _client(ctx).post(self._path(desired["project"]), "start run", form)
        ctx.progress(f"run {run['id']}: started (number {run.get('number')})")
        return {**_run_attrs(run), "project": desired["project"]}

    def restart(self, ctx, desired, attrs):
        """A sharded run's lanes: each one's first run not started yet (shards.py)."""
        base = desired.get("name") or self.marker(ctx, desired)
        started = shards.Lanes(ctx, desired, base).start(attrs, lambda a: ctx.record({**a, "starting": True}))
        return {**started, "name": base, "state": "WAITING", "shard_plan": desired["shard_plan"]}

    def advance(self, ctx, desired, attrs, read):
        if not attrs.get("shard_runs"):
            return None
        return shards.Lanes(ctx, desired, desired.get("name") or self.marker(ctx, desired)).advance(attrs, read)

    def status(self, ctx, attrs):
        """While waiting: the run's state from its project's runs listing, one read for every run
        of the project being waited on (the device runs are read once it finished). An attempt of
        a run per class, and a sharded run, are read in full."""
        if attrs.get("runs") or attrs.get("shard_runs"):
            return super().status(ctx, attrs)
        project = attrs["project"]
        listed = ctx.statuses.read(
            ("runs", project),
            str(attrs["id"]),
            lambda ids: self._listed(ctx, project, ids),
            self.status_interval,
            ctx.stop,
        )
        return listed or self.progress(ctx, attrs)

    def _listed(self, ctx: Context, project: Any, ids: set) -> dict[str, RunProgress]:
        """The runs ``ids`` from the project's runs listing, newest first, read until all are found."""
        found = {}
        for run in _client(ctx).list(self._path(project), "list runs", sort="createTime_d"):
            if str(run["id"]) in ids:
                found[str(run["id"])] = RunProgress(
                    run.get("state") == "FINISHED", _state_text(run), _run_attrs(run), partial=True
                )
                if len(found) == len(ids):
                    break
        return found

    def progress(self, ctx, attrs):
        if attrs.get("runs"):
            return self._runs_progress(ctx, attrs)
        if attrs.get("shard_runs"):
            lanes = attrs["shard_plan"]["shards"]
            units = sum(len(lane["units"]) for lane in lanes)
            return RunProgress(*shards.progress(ctx, attrs, len(lanes), units, _device_run_summary))
        run = _client(ctx).get(self._path(attrs["project"], attrs["id"]), "read run")
        device_runs = [_device_run_summary(d) for d in self._device_runs(ctx, attrs["project"], attrs["id"])]
        done = sum(d["status"] in ("SUCCEEDED", "WARNING", "FAILED", "EXCLUDED") for d in device_runs)
        text = f"{_state_text(run)}, device runs {done}/{len(device_runs)} finished"
        return RunProgress(run["state"] == "FINISHED", text, {**_run_attrs(run), "device_runs": device_runs})

    def _runs_progress(self, ctx: Context, attrs: Attrs) -> RunProgress:
        """An attempt of a run per class: finished when each of its runs is."""
        runs, texts = [], []
        for started in attrs["runs"]:
            run = _client(ctx).get(self._path(attrs["project"], started["id"]), "read run")
            device_runs = [_device_run_summary(d) for d in self._device_runs(ctx, attrs["project"], started["id"])]
            runs.append({**started, "state": run.get("state"), "device_runs": device_runs})
            texts.append(f"{started['unit']} {_state_text(run)}")
        finished = all(r["state"] == "FINISHED" for r in runs)
        done = sum(r["state"] == "FINISHED" for r in runs)
        return RunProgress(finished, f"runs {done}/{len(runs)} finished ({'; '.join(texts)})", {"runs": runs})

    def _device_runs(self, ctx: Context, project: Any, run: Any) -> builtins.list[dict[str, Any]]:
        return list(_client(ctx).list(f"{self._path(project, run)}/device-runs", "list device runs"))

    # --- the record and retries ---------------------------------------------------
    def cases(self, ctx, attrs, attempt):
        """Each device run's test cases, from its junit.xml: those the attempt ran (every device
        run first, the retried ones after a retry call, every device run of each class's run),
        each under the first run's device run on its device."""
        project = attrs["project"]
        first = {d["device"]: str(d["id"]) for d in attrs["device_runs"]}
        runs = attrs["runs"] if attempt.get("runs") else attrs.get("shard_runs") if attempt["number"] == 1 else None
        if runs:
            return [
                case
                for run in runs
                for device_run in run["device_runs"]
                for case in self._device_cases(ctx, project, run["id"], device_run, first)
            ]
        named = attempt.get("units")
        return [
            case
            for device_run in attrs["device_runs"]
            if named is None or str(device_run["id"]) in named
            for case in self._device_cases(ctx, project, attrs["id"], device_run, first)
        ]

    def _device_cases(
        self, ctx: Context, project: Any, run: Any, device_run: Attrs, first: dict[str, str]
    ) -> builtins.list[CaseResult]:
        device, status = device_run["device"], device_run["status"]
        unit = first.get(device, str(device_run["id"]))
        path = f"{self._path(project, run)}/device-runs/{device_run['id']}/junit.xml"
        found = _junit_cases(_client(ctx).get_bytes(path, "download junit.xml", readable=_is_junit), device, unit)
        if found or status in SUCCEEDED:
            return found
        # A device run that failed (or was excluded) before any test ran is one case, an error.
        why = f"device run {device_run['id']} ended {status} without a test case"
        return [CaseResult(device, "device run", device, unit, "error", None, why)]

    def retry_unit(self, desired):
        retry = desired.get("retry") or {}
        if retry.get("only") != "failed_tests":
            return None
        return _package_of if retry.get("by") == "package" else _class_of

    def start_attempt(self, ctx, desired, attrs, attempt, save):
        if desired["retry"]["only"] == "failed_tests":
            return self._start_class_runs(ctx, desired, attrs, attempt, save)
        return self._retry_device_runs(ctx, attrs, attempt["units"], attempt["number"])

    def _retry_device_runs(self, ctx: Context, attrs: Attrs, units: builtins.list[str], number: int) -> Attrs:
        """The vendor client's retry of the device runs ``units``: the same run, a new attempt of each.
        One whose answer was lost is taken when every named device run is going again."""
        path = f"{self._path(attrs['project'], attrs['id'])}/retry"
        try:
            _client(ctx).post(path, "retry device runs", query=[("deviceRunIds[]", unit) for unit in units])
        except ProviderError as error:
            going = (
                {
                    str(d["id"])
                    for d in self._device_runs(ctx, attrs["project"], attrs["id"])
                    if d.get("runStatus") in ("WAITING", "RUNNING")
                }
                if error.ambiguous
                else set()
            )
            if not error.ambiguous or not set(units) <= going:
                raise
        ctx.progress(f"run {attrs['id']}: attempt {number} retries device runs {', '.join(units)}")
        return {"id": attrs["id"]}

    def _start_class_runs(self, ctx: Context, desired: Attrs, attrs: Attrs, attempt: Attrs, save) -> Attrs:
        """A run per class (or package) of ``attempt``, on the first run's device group, each kept
        in state (``save``) as soon as Bitbar answers; those already started are not started again."""
        project, number = attrs["project"], attempt["number"]
        kind = "PACKAGE" if desired["retry"].get("by") == "package" else "CLASS"
        group = (
            _client(ctx).get(f"{self._path(project, attrs['id'])}/config", "read run config").get("usedDeviceGroupId")
        )
        user = _client(ctx).get(ME, "read user")["id"]
        runs = [dict(r) for r in attempt.get("runs") or []]
        started = {r["unit"] for r in runs}
        base = attrs.get("name") or f"run {attrs['id']}"
        named = {unit: f"{base} attempt {number}: {unit}" for unit in attempt["units"]}
        unrecorded = self._unrecorded_class_runs(ctx, attrs, runs, kind, named)
        for unit in attempt["units"]:
            if unit in started:
                continue
            config = {"projectId": project, "limitationType": kind, "limitationValue": unit}
            if group is not None:
                config["deviceGroupId"] = group
            run = unrecorded.get(unit)
            if run is None:
                try:
                    run = _client(ctx).post_json(f"/api/v2/users/{user}/runs", "start run", config)
                except ProviderError as error:  # started or not? the cloud's runs say
                    run = (
                        self._unrecorded_class_runs(ctx, attrs, runs, kind, named).get(unit)
                        if error.ambiguous
                        else None
                    )
                    if run is None:
                        raise
            runs.append({"unit": unit, "id": run["id"]})
            save({"id": runs[0]["id"], "runs": runs})
            ctx.progress(f"run {run['id']}: attempt {number} re-runs {kind} {unit}")
            # Named after the run it retries, so the cloud's list reads as the plan does (a rename is safe to resend).
            _client(ctx).post(self._path(project, run["id"]), "rename run", {"name": named[unit]}, idempotent=True)
        return {"id": runs[0]["id"], "runs": runs}

    def _unrecorded_class_runs(
        self, ctx: Context, attrs: Attrs, runs: builtins.list[Attrs], kind: str, named: dict[str, str]
    ) -> dict[str, Attrs]:
        """The runs per class Bitbar made for this attempt that state never recorded (an answer lost, or
        an apply killed before it was saved), by unit: the project's runs after this one that no attempt
        holds and labform has not named for another attempt, whose own config selects a unit (the cloud
        names a run started without a name itself). Found again, none starts twice."""
        project = attrs["project"]
        known = {str(attrs["id"])} | {str(r["id"]) for r in [*runs, *(attrs.get("shard_runs") or [])]}
        known |= {str(r["id"]) for a in attrs.get("attempts") or [] for r in a.get("runs") or []}
        found: dict[str, Attrs] = {}
        for run in listing(ctx, self._path(project), "find run"):
            if str(run["id"]) in known or int(run["id"]) <= int(attrs["id"]):
                continue
            config = _client(ctx).get(f"{self._path(project, run['id'])}/config", "read run config")
            unit = config.get("limitationValue")
            name = run.get("displayName") or ""
            if config.get("limitationType") == kind and unit in named and not _other_attempts(name, named[unit]):
                found.setdefault(unit, run)
        return found

    def fold_attempt(self, attrs, attempt):
        """After the retry call the run itself says how each device ended (its state, ratios, device
        runs); after a run per class, the record does."""
        if attempt.get("runs"):
            return attrs
        return {**attrs, **attempt["progress"]}

    # --- the gate and the counts ---------------------------------------------------
    def gate_failure(self, desired, attrs):
        gate = desired.get("gate")
        if not gate or gate.get("min_success_ratio") is None:
            return None
        device_runs = attrs.get("device_runs", [])
        quarantine = gate.get("quarantine") or []
        succeeded, ratio, how = _devices_succeeded(attrs, quarantine)
        if ratio >= gate["min_success_ratio"]:
            return None
        # The cloud's successRatio counts devices; the record counts tests: both are said, so neither reads wrong.
        if attrs.get("record") is not None:
            counts = RunRecord.from_json(attrs["record"]).counts(quarantine)
            passed, cases = counts.passed, counts.tests
        else:
            passed, cases = sum(d["passed"] for d in device_runs), sum(d["cases"] for d in device_runs)
        failing = [d["device"] for d in device_runs if str(d["id"]) not in succeeded]
        return (
            f"devices {len(succeeded)}/{len(device_runs)} succeeded (success ratio {ratio:.2f}{how}, below "
            f"{gate['min_success_ratio']:.2f}); tests {passed}/{cases} passed; failing devices: {', '.join(failing) or 'none'}"
        )

    def facts(self, attrs: Attrs) -> RunFacts:
        """From the record (a device per device run, its test cases each by its last attempt);
        without one, a device per device run and its counts."""
        counts = recorded(attrs) or per_device(
            attrs.get("device_runs"), lambda d: d["passed"], lambda d: d["cases"] - d["passed"]
        )
        return judged(attrs, counts)

    def update_remote(self, ctx, id, desired, actual):
        if desired.get("name") and desired["name"] != actual.get("name"):
            return _run_attrs(
                _client(ctx).post(
                    self._path(desired["project"], id), "rename run", {"name": desired["name"]}, idempotent=True
                )
            )
        return {}

    def remove(self, ctx, attrs):
        """The run, its shards' runs, and the runs per class its attempts started."""
        retries = [r["id"] for a in attrs.get("attempts") or [] for r in a.get("runs") or []]
        lanes = [r["id"] for r in attrs.get("shard_runs") or []]
        for run in dict.fromkeys([attrs["id"], *lanes, *retries]):
            _client(ctx).delete(self._path(attrs["project"], run), "delete run")

    # --- artifacts ----------------------------------------------------------
    def after_finish(self, ctx, desired, attrs):
        """The run's artifacts in ``dir``; a sharded run's, each of its runs' in ``dir/<unit>``."""
        policy = desired.get("artifacts")
        if not policy:
            return
        wanted = set(policy.get("include") or ARTIFACTS)
        if not attrs.get("shard_runs"):
            self._artifacts(ctx, wanted, Path(policy["dir"]), attrs["id"], attrs["project"], attrs["device_runs"])
        for run in attrs.get("shard_runs") or []:
            target = Path(policy["dir"]) / _safe(run["unit"])
            self._artifacts(ctx, wanted, target, run["id"], attrs["project"], run["device_runs"])

    def _artifacts(
        self, ctx: Context, wanted: set[str], target: Path, run: Any, project: Any, device_runs: builtins.list[Attrs]
    ) -> None:
        run_path = self._path(project, run)
        for device_run in device_runs:
            folder = target / _safe(device_run["device"])
            if "logs" in wanted:
                self._save(ctx, f"{run_path}/device-runs/{device_run['id']}/logs", folder / "logs.txt")
            if "junit" in wanted:
                self._save(ctx, f"{run_path}/device-runs/{device_run['id']}/junit.xml", folder / "junit.xml")
        if "summary_pdf" in wanted:
            self._save(ctx, f"{run_path}/reports/summary", target / "summary.pdf", type="PDF")
        if "failures_csv" in wanted:
            self._save(ctx, f"{run_path}/reports/failures", target / "failures.csv", type="CSV")
        if "screenshots" in wanted:
            self._screenshots(ctx, run_path, target / "screenshots.zip")

    def _screenshots(self, ctx: Context, run_path: str, target: Path) -> None:
        """The zip is generated on request; wait until the run says it is READY."""
        # Asking again for a zip already asked for changes nothing: safe to retry.
        _client(ctx).post_empty(f"{run_path}/screenshots.zip", "request screenshots.zip", idempotent=True)
        wait_for(
            lambda: _client(ctx).get(run_path, "read run").get("screenshotZipState"),
            done=lambda state: state == "READY",
            timeout=600,
            poll=5,
            describe=lambda state: f"screenshots.zip: {state}",
            progress=ctx.progress,
        )
        self._save(ctx, f"{run_path}/screenshots.zip", target)

    @staticmethod
    def _save(ctx: Context, path: str, target: Path, **params: Any) -> None:
        _client(ctx).download(path, target, f"download {target.name}", ctx.progress, **params)


def _class_of(case: CaseRecord) -> str:
    return case.classname


def _package_of(case: CaseRecord) -> str:
    return case.classname.rpartition(".")[0] or case.classname


def _devices_succeeded(attrs: Attrs, quarantine: Iterable[str] = ()) -> tuple[set[str], float, str]:
    """(device run ids that succeeded, their share, how it was counted): the cloud's successRatio, or,
    once runs per class re-ran tests or a test is quarantined, each device by its last attempt (all
    its cases passed, a quarantined test's failure not counted)."""
    device_runs = attrs.get("device_runs") or []
    succeeded = {str(d["id"]) for d in device_runs if d["status"] in SUCCEEDED}
    reran = any(a.get("runs") for a in attrs.get("attempts") or [])
    skip = set(quarantine)
    if not (reran or skip) or attrs.get("record") is None:
        return succeeded, attrs.get("success_ratio") or 0.0, ""
    record = RunRecord.from_json(attrs["record"])
    failing = {c.unit for c in record.cases if c.outcome in FAILING and c.id not in skip}
    succeeded |= {str(d["id"]) for d in device_runs if d["status"] in FAILED and str(d["id"]) not in failing}
    share = len(succeeded) / len(device_runs) if device_runs else 0.0
    how = [", each device by its last attempt"] if reran else []
    how += [", quarantined tests not counted"] if skip else []
    return succeeded, share, "".join(how)


def _junit_cases(body: bytes, device: str, unit: str) -> builtins.list[CaseResult]:
    """The test cases of a device run's junit.xml, as the record takes them."""
    found = []
    for case in ET.fromstring(body).iter("testcase"):
        problem = next((hit for tag in ("failure", "error") if (hit := case.find(tag)) is not None), None)
        output = case.find("system-out")
        found.append(
            CaseResult(
                case.get("classname") or "",
                case.get("name") or "",
                device,
                unit,
                _outcome(case, problem),
                seconds_of(case.get("time")),
                "" if problem is None else (problem.text or problem.get("message") or ""),
                output.text if output is not None else None,
                type=None if problem is None else problem.get("type"),
            )
        )
    return found


def _outcome(case: ET.Element, problem: ET.Element | None) -> Outcome:
    if problem is not None:
        return "failed" if problem.tag == "failure" else "error"
    return "skipped" if case.find("skipped") is not None else "passed"


def _is_junit(body: bytes) -> bool:
    """A junit.xml answer that is one (not a gateway's HTML page, a cut or an empty file)."""
    try:
        return ET.fromstring(body).tag in ("testsuite", "testsuites")
    except ET.ParseError:
        return False


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_") or "device"


# --- bitbar_run_tag ------------------------------------------------------
class RunTagArgs(Arguments):
    project: int = arg(force_new=True, description="Project id of the run.")
    run: int = arg(force_new=True, description="Run id, e.g. ${bitbar_run.NAME.id}.")
    name: str = arg(force_new=True, min_length=1, description="The tag; a new one replaces it.")


TAG_FIELDS = FieldMap(id="id", name="name")


class RunTag(ResourceType):
    """A tag on a test run."""

    type_name = "bitbar_run_tag"
    Args = RunTagArgs
    natural_key = ("project", "run", "name")

    @staticmethod
    def _path(project, run) -> str:
        return f"{_project_path(project)}/runs/{run}/tags"

    def _attrs(self, tag, project, run):
        return {**TAG_FIELDS.attrs(tag), "project": project, "run": run}

    def read(self, ctx, id, prior):
        return self._attrs(
            _client(ctx).get(f"{self._path(prior['project'], prior['run'])}/{id}", "read tag"),
            prior["project"],
            prior["run"],
        )

    def list_scope(self, attrs):
        return ("run", attrs["project"], attrs["run"])

    def list(self, ctx, scope):
        _, project, run = scope
        return (self._attrs(tag, project, run) for tag in listing(ctx, self._path(project, run), "list tags"))

    def create(self, ctx, desired):
        tag = _client(ctx).post(self._path(desired["project"], desired["run"]), "create tag", {"name": desired["name"]})
        return self._attrs(tag, desired["project"], desired["run"])

    def delete(self, ctx, id, actual):
        _client(ctx).delete(f"{self._path(actual['project'], actual['run'])}/{id}", "delete tag")

    def find_existing(self, ctx, desired):
        return _first_named(self.listed(ctx, ("run", desired["project"], desired["run"])), "name", desired["name"])


_ATTEMPT_NAME = re.compile(r".+ attempt \d+: .+")


def _other_attempts(name: str, ours: str) -> bool:
    """Whether a run's name is one labform gave a run per class of another attempt or another run."""
    return name != ours and _ATTEMPT_NAME.fullmatch(name) is not None
