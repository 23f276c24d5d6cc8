"""bitbar_run: a test run in a project, started once per distinct set of triggers; bitbar_run_tag: a tag on one.

What runs is decided by the project (its config and uploaded files); the run
resource starts it and, with ``wait``, follows it to FINISHED, then writes
JUnit, downloads artifacts and checks the gate (see providers/runs.py).
"""

from __future__ import annotations

import builtins
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from providers.base import Arguments, Attrs, Context, ResourceType, RunFacts, arg
from providers.bitbar.admission import RunBudget
from providers.bitbar.client import ME, listing
from providers.bitbar.client import client_of as _client
from providers.bitbar.client import project_path as _project_path
from providers.bitbar.resources import _first_named
from providers.errors import ProviderError
from providers.junit import renamed_suites
from providers.mapping import FieldMap
from providers.polling import wait_for
from providers.runs import RetryPolicy, RunArguments, RunProgress, RunResource, judged, per_device

Artifact = Literal["logs", "screenshots", "junit", "summary_pdf", "failures_csv"]
ARTIFACTS: tuple[Artifact, ...] = get_args(Artifact)
FAILED = ("FAILED",)
# The device runs the cloud's successRatio counts as succeeded (a WARNING passed its tests).
SUCCEEDED = ("SUCCEEDED", "WARNING")


class BitbarGate(BaseModel):
    """When a finished run passes."""

    model_config = ConfigDict(extra="forbid")
    min_success_ratio: float = Field(ge=0, le=1, description="Share of device runs that must succeed.")


class ArtifactsPolicy(BaseModel):
    """What to download once the run finished."""

    model_config = ConfigDict(extra="forbid")
    dir: str = Field(description="Local folder they are written to, one subfolder per device.")
    include: list[Artifact] = Field(
        list(ARTIFACTS), description="Which artifacts to download (all of them by default)."
    )


class RunRetry(RetryPolicy):
    """labform does not re-run Bitbar runs yet (the cloud could re-run failed devices, or a class or package per run): every form is a validate error, at ``retry.only``."""

    cloud: ClassVar[str] = "bitbar"


class RunArgs(RunArguments):
    retry: RunRetry | None = arg(None, local=True, description="Not yet on this cloud (a validate error says so).")
    project: int = arg(
        force_new=True, description="Project id whose config and files the run uses, e.g. ${bitbar_project.NAME.id}."
    )
    name: str | None = arg(None, description="Run name; changes in place.")
    gate: BitbarGate | None = arg(
        None, local=True, description="Fail the apply when the finished run's success ratio is below this (needs wait)."
    )
    artifacts: ArtifactsPolicy | None = arg(None, local=True, description="Download these after the run finished.")
    budget: RunBudget | None = arg(None, local=True, description="Fail the plan when its estimate is over this.")


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
        form = {"name": desired.get("name") or self.marker(ctx, desired)}
        run = _client(ctx).post(self._path(desired["project"]), "start run", form)
        ctx.progress(f"run {run['id']}: started (number {run.get('number')})")
        return {**_run_attrs(run), "project": desired["project"]}

    def status(self, ctx, attrs):
        """While waiting: the run's state from its project's runs listing, one read for every run
        of the project being waited on (the device runs are read once it finished)."""
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
        run = _client(ctx).get(self._path(attrs["project"], attrs["id"]), "read run")
        device_runs = [_device_run_summary(d) for d in self._device_runs(ctx, attrs)]
        done = sum(d["status"] in ("SUCCEEDED", "WARNING", "FAILED", "EXCLUDED") for d in device_runs)
        text = f"{_state_text(run)}, device runs {done}/{len(device_runs)} finished"
        return RunProgress(run["state"] == "FINISHED", text, {**_run_attrs(run), "device_runs": device_runs})

    def _device_runs(self, ctx: Context, attrs: Attrs) -> builtins.list[dict[str, Any]]:
        return list(_client(ctx).list(f"{self._path(attrs['project'], attrs['id'])}/device-runs", "list device runs"))

    def junit_suites(self, ctx, attrs):
        suites = []
        for device_run in attrs["device_runs"]:
            path = f"{self._path(attrs['project'], attrs['id'])}/device-runs/{device_run['id']}/junit.xml"
            xml = _client(ctx).get_bytes(path, "download junit.xml", readable=_is_junit)
            suites.extend(renamed_suites(xml, device_run["device"]))
        return suites

    def gate_failure(self, desired, attrs):
        gate = desired.get("gate")
        if not gate:
            return None
        ratio = attrs.get("success_ratio") or 0.0
        if ratio >= gate["min_success_ratio"]:
            return None
        # The cloud's successRatio counts devices; the JUnit counts tests: both are said, so neither reads wrong.
        device_runs = attrs.get("device_runs", [])
        succeeded = sum(d["status"] in SUCCEEDED for d in device_runs)
        passed, cases = sum(d["passed"] for d in device_runs), sum(d["cases"] for d in device_runs)
        failing = [d["device"] for d in device_runs if d["status"] in FAILED]
        return (
            f"devices {succeeded}/{len(device_runs)} succeeded (success ratio {ratio:.2f}, below "
            f"{gate['min_success_ratio']:.2f}); tests {passed}/{cases} passed; failing devices: {', '.join(failing) or 'none'}"
        )

    def facts(self, attrs: Attrs) -> RunFacts:
        """A device per device run; passed and failed are their test cases."""
        counts = per_device(attrs.get("device_runs"), lambda d: d["passed"], lambda d: d["cases"] - d["passed"])
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
        _client(ctx).delete(self._path(attrs["project"], attrs["id"]), "delete run")

    # --- artifacts ----------------------------------------------------------
    def after_finish(self, ctx, desired, attrs):
        policy = desired.get("artifacts")
        if not policy:
            return
        target = Path(policy["dir"])
        run_path = self._path(attrs["project"], attrs["id"])
        wanted = set(policy.get("include") or ARTIFACTS)
        for device_run in attrs["device_runs"]:
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
