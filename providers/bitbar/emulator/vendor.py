"""The vendor-client set: what the official ``testdroid`` 3.2 Python client calls in its core flow
that the doc does not list, served on the doc's own objects (off with the ``no-vendor-client`` variant).

The client (``testdroid/__init__.py`` of the ``testdroid`` 3.2 package) is the evidence for each
path, method, parameter and key it reads; where it is silent the doc's object tables decide:

| endpoint | client function: what it sends and reads | here |
| --- | --- | --- |
| ``POST /api/v2/users/{userId}/files`` | ``Testdroid.upload_file``: multipart field ``file``; reads ``id`` and ``fileProperties`` (``key`` / ``value``; a ``virus_scan_status`` other than safe / disabled / none is waited for) | 201, the doc's ``file`` object plus ``fileProperties: []`` (no scan here); the file joins the user's file library, kept until a run uses it and beyond |
| ``POST /api/v2/users/{userId}/runs`` | ``Testdroid.start_test_run_using_config``: a JSON config (its docstring: ``projectId``, ``files`` [{id}], ``testRunParameters`` [{key, value}], ``deviceGroupId``, ``frameworkId``, ``osType``); ``start_wait_test_run`` reads ``id`` and ``projectId`` | 201, the doc's ``testRun``: a run of the doc's project ``projectId``, read by the doc's run endpoints; the config's ``limitationType`` / ``limitationValue`` (the doc's projectConfig fields) select this run's tests only |
| ``POST .../runs/{runId}/retry?deviceRunIds[]=..`` | ``Testdroid.retry_test_run``: no body; "Specify individual device session IDs to only re-run those devices" | 202, the doc's ``testRun``: the named device runs (all without ids) start a new attempt under their ids |
| ``POST .../runs/{runId}/abort`` | ``Testdroid.abort_test_run``: no body | 202, the doc's ``testRun``: FINISHED, its unfinished device runs stopped (timing.py) |

``{userId}`` is the caller's id (``/api/v2/me``'s); another answers 404, as any object of another
account. A run's ``files`` take the roles application, test, data in the order listed (the
client's docstring lists ids only), a data file must be a ZIP as the doc's data upload says, and
without ``files`` the project's own files are used; ``deviceGroupId`` defaults to the project's
``usedDeviceGroupId``; ``testRunParameters`` are added to the project's parameters (a key given
replaces the project's value); a config naming ``limitationType`` (PACKAGE, CLASS or null) and
``limitationValue`` runs with them in place of the project's, as the run's own config (the doc's
``runs/{runId}/config`` is a projectConfig, which has them): the project's config is not changed.
``frameworkId`` and ``osType`` are taken and not used: the doc's
runs have no framework, and the project's type decides. The run is the doc's in every way: it is
named ``Test run N``, its devices are EXCLUDED when it lacks what the mode needs, its config and
parameters read back through ``runs/{runId}/config``. Retry and abort take any run: a retried
device run that is still running starts again; an abort leaves finished device runs as they are.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.errors import api_error, check
from labform.providers.bitbar.emulator.runs import RunHandlers
from labform.providers.bitbar.emulator.seed import ID_STARTS
from labform.providers.bitbar.emulator.timing import run_status
from labform.providers.bitbar.emulator.uploads import FileHandlers
from labform.providers.bitbar.emulator.vocabulary import FILE_KINDS, LIMITATION_TYPES
from labform.providers.bitbar.emulator.wire import reply
from labform.providers.emulation import app_platform, seeded_random

# The query parameter retry_test_run repeats, and its plain spelling.
DEVICE_RUN_IDS = ("deviceRunIds[]", "deviceRunIds")


class VendorClientHandlers(FileHandlers, RunHandlers):
    """The vendor client's upload, run start, retry and abort."""

    def caller(self, request: Request) -> None:
        """``users/{userId}`` names the one account here; any other user is not found."""
        user_id = request.path_params["userId"]
        if user_id != self.data["user"]["id"]:
            raise api_error(404, f"No user with id {user_id}")

    async def upload_user_file(self, request: Request) -> Response:
        self.caller(request)
        stored = await self.receive_upload(request)
        with self.store.lock:
            platform = "IOS" if app_platform(stored.filename) == "ios" else "ANDROID"
            record = self.keep_upload(stored, "library", None, platform)
        return reply(request, self.file_view(record) | {"fileProperties": []}, 201, root="file")

    async def start_user_run(self, request: Request) -> Response:
        self.caller(request)
        body = await json_object(request)
        project_id = check.integer("projectId", check.required(body, "projectId"))
        group_id = body.get("deviceGroupId")
        with self.store.lock:
            project = self.data["projects"].get(str(project_id))
            if project is None:
                raise api_error(404, f"No project with id {project_id}")
            files = self.run_files(body.get("files"), project)
            if group_id is not None and str(check.integer("deviceGroupId", group_id)) not in self.data["deviceGroups"]:
                raise api_error(404, f"Device group with id {group_id} not found")
            config = self.config_view(project, files, group_id) | limitation(body)
            parameters = self.run_parameters(body.get("testRunParameters"), project["id"])
            run = self.open_run(project, "", config, files, parameters)
        return reply(request, self.run_view(run), 201, root="testRun")

    def run_files(self, listed: Any, project: dict[str, Any]) -> dict[str, int | None]:
        """The run's application / test / data slots: the listed file ids in that order, else the project's."""
        if listed is None:
            return dict(project["files"])
        if not isinstance(listed, list) or len(listed) > len(FILE_KINDS):
            raise check.invalid("files", listed, f"a list of at most {len(FILE_KINDS)} {{id}} objects")
        slots: dict[str, int | None] = dict.fromkeys(FILE_KINDS)
        for kind, entry in zip(FILE_KINDS, listed, strict=False):
            file_id = check.integer("files[].id", entry.get("id") if isinstance(entry, dict) else entry)
            record = self.data["files"].get(str(file_id))
            if record is None:
                raise api_error(404, f"No file with id {file_id}")
            if kind == "data" and not zipfile.is_zipfile(Path(record["path"])):
                raise api_error(400, f"The data file {file_id} must be a ZIP package")
            slots[kind] = file_id
        return slots

    def run_parameters(self, given: Any, project_id: int) -> list[dict[str, Any]]:
        """The project's parameters, each ``{key, value}`` given added (or replacing the project's value)."""
        if given is None:
            given = []
        if not isinstance(given, list) or not all(isinstance(p, dict) for p in given):
            raise check.invalid("testRunParameters", given, "a list of {key, value} objects")
        parameters = {p["key"]: p for p in self.parameters_of(project_id)}
        for entry in given:
            key = check.text("testRunParameters[].key", check.required(entry, "key"))
            value = check.text("testRunParameters[].value", check.present(entry, "value"))
            parameter_id = self.store.next_id("parameter", ID_STARTS["parameter"])
            parameters[key] = {"id": parameter_id, "projectId": project_id, "key": key, "value": value}
        return list(parameters.values())

    async def retry_run(self, request: Request) -> Response:
        asked = [value for name in DEVICE_RUN_IDS for value in request.query_params.getlist(name)]
        wanted = [check.parse_int("deviceRunIds[]", value) for value in asked]
        with self.store.lock:
            run = self.run(request)
            stranger = next((i for i in wanted if i not in run["deviceRunIds"]), None)
            if stranger is not None:
                raise api_error(404, f"Run {run['id']} has no device run with id {stranger}")
            chosen = [self.data["deviceRuns"][str(i)] for i in dict.fromkeys(wanted or run["deviceRunIds"])]
            run["retries"] = run.get("retries", 0) + 1
            rng = seeded_random(self.options.seed, "bitbar", run["id"], "retry", run["retries"])
            attempts = self.attempts(run, [dr["deviceId"] for dr in chosen], self.now(), rng)
            for record, attempt in zip(chosen, attempts, strict=True):
                identity = {"id": record["id"], "runId": run["id"]}
                record.clear()
                record.update(identity | attempt)
        return reply(request, self.run_view(run), 202, root="testRun")

    async def abort_run(self, request: Request) -> Response:
        with self.store.lock:
            run = self.run(request)
            now = self.now()
            for device_run in self.device_runs_of(run):
                if run_status(device_run, now) in ("WAITING", "RUNNING"):
                    device_run["abortedAt"] = now
        return reply(request, self.run_view(run), 202, root="testRun")


def limitation(body: dict[str, Any]) -> dict[str, Any]:
    """The run's own limitationType / limitationValue, where the config names them."""
    found = {}
    if "limitationType" in body:
        kind = body["limitationType"]
        found["limitationType"] = None if kind is None else check.one_of("limitationType", kind, LIMITATION_TYPES)
    if "limitationValue" in body:
        found["limitationValue"] = check.text("limitationValue", body["limitationValue"])
    return found


async def json_object(request: Request) -> dict[str, Any]:
    """The JSON object the body holds (the client sends its test run config as JSON text)."""
    try:
        body = json.loads(await request.body())
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        raise api_error(400, "The request body must be a JSON object (a test run config)")
    return body
