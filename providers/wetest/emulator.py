"""WeTest CloudTesting REST API emulator (shared/api-docs/wetest-rest-api.txt).

Faithful to the doc: every path under ``/cloudtest/v1`` with its method,
parameters (query, multipart ``data`` / ``file`` parts, JSON body) and the
documented response objects, all wrapped in the ``ret`` / ``msg`` envelope
(``ret`` 0 = success, doc line 164). Test status codes (0 testing, 1 finished,
2 canceled, 3 timeout) and per-device ``result_code`` meanings (0 running ...
6 user canceled, doc lines 382 and 459) are the documented ones.

Where the doc is silent, this emulator decides, and says so:

- Errors. The doc documents only the 200 responses, whose envelope carries
  ``ret``. So an API-level error is HTTP 200 with a non-zero ``ret`` from
  ``Ret`` (1001 bad parameter, 1002 not found, 1003 wrong state); only bad
  credentials get an HTTP status: 401 with ``ret`` 1004. Unknown routes get
  the framework's 404 / 405.
- Required-with-default fields of Submit Automation Test (``frame_type``,
  ``max_test_runtime``, ``max_device_runtime``, doc lines 245-249) take their
  default when absent, as the doc's own sample omits them (lines 269-278).
  Runtimes must be positive integers and a device's may not exceed the test's;
  the doc gives no other bound.
- With ``devices`` given, ``device_number`` may be 0 and is not used; without
  it, that many idle devices of the cloud are picked.
- Device and model ids come from disjoint ranges (devices 10001+ / 20001+,
  models 501+ / 601+), so a list mixing the two kinds is recognised (line 252).
- An app runs only on devices of its platform (.apk/.aab Android, .ipa iOS).
- Download URLs (app, icon, script, logs, report) use the reserved host
  ``wetest.emulator.invalid``: the doc defines no endpoint that serves them.
- ``device_state`` / ``device_state_code``: ``idle`` 0, ``testing`` 1,
  ``offline`` 2; ``frame_type_code``: appium 1, game_loop 2; ``test_type``
  ``automation`` / 1; ``pass_rate`` / ``exception_rate`` are ratios in [0, 1].

Timing: a test's devices are planned at submission from ``options``; with
``D = job_duration``, device ``i`` of ``n`` waits ``0.1·D·i/n`` seconds and ends
at ``D·(i+1)/n`` (cut at ``max_device_runtime``: result 4). The test ends when
its last device does, unless cancelled first (status 2, unfinished devices 6)
or ``max_test_runtime`` passes (status 3, unfinished devices 5). Everything is
read lazily against ``options.clock``; no background task runs.

Results: ``failure_share`` of the online devices, chosen by ``seed``, end with
result 2 and failed cases; the others pass. An offline seeded device (10007)
is never tested: result 3.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from providers.emulator_helpers import (
    Rejection,
    answer_rejections,
    app_platform,
    extension,
    failing_positions,
    inspect_app,
    require_basic_auth,
    save_upload,
    seeded_random,
    upload_directory,
    virtual_datetime,
)
from providers.emulator_kit import EmulatorApp, EmulatorOptions, JsonStore

SANDBOX_SECRET_ID = "sandbox-wetest-id"
SANDBOX_SECRET_KEY = "sandbox-wetest-key"

BASE = "/cloudtest/v1"
FILES_HOST = "https://wetest.emulator.invalid"
APP_EXTENSIONS = ("aab", "apk", "ipa")
FRAME_TYPES = {"appium": 1, "game_loop": 2}
CHOOSE_TYPES = ("deviceids", "modelids")
DEFAULT_TEST_RUNTIME = 1800
DEFAULT_DEVICE_RUNTIME = 600
# Share of the job duration over which device starts are spread (queueing).
QUEUE_SHARE = 0.1


class Ret(IntEnum):
    OK = 0
    BAD_PARAMETER = 1001
    NOT_FOUND = 1002
    WRONG_STATE = 1003
    AUTH_FAILED = 1004


class StatusCode(IntEnum):
    TESTING = 0
    FINISHED = 1
    CANCELED = 2
    TIMEOUT = 3


class DeviceResult(IntEnum):
    RUNNING = 0
    PASSED = 1
    COMPATIBILITY_ERROR = 2
    UNTESTED = 3
    TIMEOUT = 4
    SYSTEM_CANCELED = 5
    USER_CANCELED = 6


RESULT_TEXT = {
    DeviceResult.RUNNING: "running",
    DeviceResult.PASSED: "passed",
    DeviceResult.COMPATIBILITY_ERROR: "has compatibility error",
    DeviceResult.UNTESTED: "untest (device exception)",
    DeviceResult.TIMEOUT: "timeout",
    DeviceResult.SYSTEM_CANCELED: "system canceled",
    DeviceResult.USER_CANCELED: "user canceled",
}
STATUS_TEXT = {
    StatusCode.TESTING: "testing",
    StatusCode.FINISHED: "finished",
    StatusCode.CANCELED: "canceled",
    StatusCode.TIMEOUT: "timeout",
}
DEVICE_STATES = {"idle": 0, "testing": 1, "offline": 2}

# ---------------------------------------------------------------- seed

SANDBOX_PROJECTS = [
    {"project_id": "pj-demo", "project_name": "Demo Project"},
    {"project_id": "pj-shop", "project_name": "Shop App"},
]
SANDBOX_CLOUDS = [
    {"cloud_id": 1, "cloud_name": "Android Public Cloud", "platform": "android"},
    {"cloud_id": 2, "cloud_name": "iOS Public Cloud", "platform": "ios"},
]
# cloud, model_id, manufacture, model, version, ram (MB), resolution, cores, GHz, device ids
_MODELS = [
    (1, 501, "Samsung", "Galaxy S23", "14", 8192, "1080x2340", 8, 3.36, (10001, 10002)),
    (1, 502, "Google", "Pixel 8", "14", 8192, "1080x2400", 9, 2.91, (10003,)),
    (1, 503, "Xiaomi", "Redmi Note 12", "13", 4096, "1080x2400", 8, 2.4, (10004,)),
    (1, 504, "OnePlus", "OnePlus 11", "13", 12288, "1440x3216", 8, 3.2, (10005, 10006)),
    (1, 505, "Huawei", "P30", "10", 6144, "1080x2340", 8, 2.6, (10007,)),
    (2, 601, "Apple", "iPhone 15", "17.4", 6144, "1179x2556", 6, 3.46, (20001, 20002)),
    (2, 602, "Apple", "iPhone 13", "16.7", 4096, "1170x2532", 6, 3.23, (20003,)),
    (2, 603, "Apple", "iPad Air 5", "17.2", 8192, "1640x2360", 8, 3.2, (20004,)),
]
OFFLINE_DEVICES = frozenset({10007})
# filter_type 1 = a list of model ids, 2 = a list of device ids (doc line 225).
SANDBOX_MODEL_LISTS = [
    {"id": 301, "project": "pj-demo", "name": "Top Android phones", "cloud_id": 1, "filter_type": 1, "members": [501, 502, 503]},
    {"id": 302, "project": "pj-demo", "name": "Lab iPhones", "cloud_id": 2, "filter_type": 2, "members": [20001, 20003]},
    {"id": 303, "project": "pj-shop", "name": "Samsung flagships", "cloud_id": 1, "filter_type": 1, "members": [501]},
]


def _seed_devices() -> list[dict[str, Any]]:
    devices = []
    for cloud_id, model_id, maker, model, version, ram, resolution, cores, ghz, ids in _MODELS:
        for device_id in ids:
            devices.append(
                {
                    "cloud_id": cloud_id,
                    "device_id": device_id,
                    "model_id": model_id,
                    "manufacture": maker,
                    "model": model,
                    "version": version,
                    "ram": ram,
                    "resolution": resolution,
                    "cpu_total": cores,
                    "cpu_ghz": ghz,
                    "location": "Singapore",
                    "online": device_id not in OFFLINE_DEVICES,
                }
            )
    return devices


def initial_data() -> dict[str, Any]:
    return {
        "projects": [dict(p) for p in SANDBOX_PROJECTS],
        "clouds": [dict(c) for c in SANDBOX_CLOUDS],
        "devices": _seed_devices(),
        "model_lists": [dict(m) for m in SANDBOX_MODEL_LISTS],
        "apps": {},
        "scripts": {},
        "tests": {},
    }


# ---------------------------------------------------------------- envelope


class Rejected(Rejection):
    """An API-level error: answered as HTTP 200 with a non-zero ``ret``."""

    def __init__(self, ret: Ret, msg: str):
        super().__init__(failure(ret, msg), msg)


def ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"ret": int(Ret.OK), "msg": "ok", **fields})


def failure(ret: int, msg: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"ret": int(ret), "msg": msg}, status_code=status)


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"ret": status, "msg": message}


def _timestamp(seconds: float) -> str:
    return virtual_datetime(seconds).strftime("%Y-%m-%d %H:%M:%S")


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() in ("true", "1")


def _int_path(request: Request, name: str) -> int:
    try:
        return int(request.path_params[name])
    except ValueError:
        raise Rejected(Ret.BAD_PARAMETER, f"{name} must be an integer") from None


# ---------------------------------------------------------------- submission parsing


@dataclass(frozen=True)
class Submission:
    project: str
    app_fid: str
    frame_type: str
    script_id: int | None
    cloud_id: int
    device_number: int
    devices: list[int]
    choose_type: str
    max_test_runtime: int
    max_device_runtime: int
    scenarios: list[int]
    resign: bool


def _required(body: dict[str, Any], key: str) -> Any:
    if body.get(key) in (None, ""):
        raise Rejected(Ret.BAD_PARAMETER, f"missing required parameter: {key}")
    return body[key]


def _integer(body: dict[str, Any], key: str, default: int | None = None, minimum: int = 0) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejected(Ret.BAD_PARAMETER, f"{key} must be an integer")
    if value < minimum:
        raise Rejected(Ret.BAD_PARAMETER, f"{key} must be at least {minimum}")
    return value


def _choice(body: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(key) or default
    if value not in allowed:
        raise Rejected(Ret.BAD_PARAMETER, f"{key} must be one of {', '.join(allowed)}")
    return value


def parse_scenarios(text: str) -> list[int]:
    """``"1-3, 5"`` -> ``[1, 2, 3, 5]`` (doc line 257)."""
    loops: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if match is None or int(match.group(1)) < 1:
            raise Rejected(Ret.BAD_PARAMETER, f"scenarios: cannot read {part!r}")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise Rejected(Ret.BAD_PARAMETER, f"scenarios: range {part!r} runs backwards")
        loops.update(range(first, last + 1))
    return sorted(loops) or [1]


def parse_submission(body: Any) -> Submission:
    """Check the documented constraints that need no stored object."""
    if not isinstance(body, dict):
        raise Rejected(Ret.BAD_PARAMETER, "request body must be a JSON object")
    project = str(_required(body, "project"))
    app_fid = str(_required(body, "app_hash_id"))
    _required(body, "cloud_id")
    _required(body, "device_number")
    frame_type = _choice(body, "frame_type", tuple(FRAME_TYPES), "appium")
    script_id = _integer(body, "script_id")
    if frame_type == "appium" and script_id is None:
        raise Rejected(Ret.BAD_PARAMETER, "script_id is required when frame_type is appium")
    max_test_runtime = _integer(body, "max_test_runtime", DEFAULT_TEST_RUNTIME, minimum=1)
    max_device_runtime = _integer(body, "max_device_runtime", DEFAULT_DEVICE_RUNTIME, minimum=1)
    if max_device_runtime > max_test_runtime:
        raise Rejected(Ret.BAD_PARAMETER, "max_device_runtime must not exceed max_test_runtime")
    devices = body.get("devices") or []
    if not isinstance(devices, list) or any(isinstance(d, bool) or not isinstance(d, int) for d in devices):
        raise Rejected(Ret.BAD_PARAMETER, "devices must be an array of integers")
    for key in ("scenarios", "scenario_labels"):
        if body.get(key) not in (None, "") and frame_type != "game_loop":
            raise Rejected(Ret.BAD_PARAMETER, f"{key} is for Game Loop tests only")
    scenarios = body.get("scenarios") or ""
    if not isinstance(scenarios, str):
        raise Rejected(Ret.BAD_PARAMETER, "scenarios must be a string such as \"1-3, 5\"")
    resign = body.get("resign", False)
    if not isinstance(resign, bool):
        raise Rejected(Ret.BAD_PARAMETER, "resign must be a boolean")
    return Submission(
        project=project,
        app_fid=app_fid,
        frame_type=frame_type,
        script_id=script_id,
        cloud_id=_integer(body, "cloud_id"),
        device_number=_integer(body, "device_number"),
        devices=list(dict.fromkeys(devices)),
        choose_type=_choice(body, "device_choose_type", CHOOSE_TYPES, "deviceids"),
        max_test_runtime=max_test_runtime,
        max_device_runtime=max_device_runtime,
        scenarios=parse_scenarios(scenarios),
        resign=resign,
    )


# ---------------------------------------------------------------- test timeline


def _cut(test: dict[str, Any]) -> tuple[float, StatusCode]:
    """When, relative to submission, the test was stopped early, and how."""
    cut, how = float(test["max_test_runtime"]), StatusCode.TIMEOUT
    if test["canceled_at"] is not None and test["canceled_at"] - test["submitted_at"] <= cut:
        cut, how = test["canceled_at"] - test["submitted_at"], StatusCode.CANCELED
    return cut, how


def device_result_at(test: dict[str, Any], plan: dict[str, Any], elapsed: float) -> tuple[DeviceResult, float | None]:
    """A planned device's result code and end offset (None while running)."""
    cut, how = _cut(test)
    if plan["end"] <= min(elapsed, cut):
        return DeviceResult(plan["outcome"]), plan["end"]
    if cut <= elapsed:
        stopped = DeviceResult.USER_CANCELED if how == StatusCode.CANCELED else DeviceResult.SYSTEM_CANCELED
        return stopped, cut
    return DeviceResult.RUNNING, None


def status_at(test: dict[str, Any], elapsed: float) -> tuple[StatusCode, float | None]:
    natural_end = max(plan["end"] for plan in test["devices"])
    cut, how = _cut(test)
    if natural_end <= min(elapsed, cut):
        return StatusCode.FINISHED, natural_end
    if cut <= elapsed:
        return how, cut
    return StatusCode.TESTING, None


def plan_devices(
    test_id: int, devices: list[dict[str, Any]], submission: Submission, options: EmulatorOptions
) -> list[dict[str, Any]]:
    """Fix each device's start, end, outcome and case counts at submission time."""
    rng = seeded_random(options.seed, "wetest", test_id)
    online = [i for i, device in enumerate(devices) if device["online"]]
    failing = {online[p] for p in failing_positions(len(online), options.failure_share, rng)}
    duration, count = options.job_duration, len(devices)
    plans = []
    for index, device in enumerate(devices):
        start = duration * QUEUE_SHARE * index / count
        end = duration * (index + 1) / count
        total = len(submission.scenarios) if submission.frame_type == "game_loop" else rng.randint(3, 8)
        failed = rng.randint(1, total) if index in failing else 0
        cases = {"case_total": total, "case_success": total - failed, "case_fail": failed, "case_timeout": 0}
        outcome = DeviceResult.COMPATIBILITY_ERROR if failed else DeviceResult.PASSED
        if not device["online"]:
            end, outcome = start, DeviceResult.UNTESTED
            cases = {"case_total": total, "case_success": 0, "case_fail": 0, "case_timeout": 0}
        elif end - start > submission.max_device_runtime:
            end, outcome = start + submission.max_device_runtime, DeviceResult.TIMEOUT
            cases = {"case_total": total, "case_success": 0, "case_fail": failed, "case_timeout": total - failed}
        plans.append({"device_id": device["device_id"], "start": start, "end": end, "outcome": int(outcome), "cases": cases})
    return plans


# ---------------------------------------------------------------- the emulator


class WeTestEmulator:
    """Handlers over one ``JsonStore``; ``build_app`` wires them to routes."""

    def __init__(self, options: EmulatorOptions, store: JsonStore, secret_id: str):
        self.options = options
        self.store = store
        self.uploads = upload_directory(options, "wetest")
        # Scripts record their uploader (doc line 117): the only user there is.
        self.secret_id = secret_id

    # ---- lookups

    @property
    def data(self) -> dict[str, Any]:
        return self.store.data

    def _now(self) -> float:
        return self.options.clock.now()

    def _project(self, project_id: str | None) -> str:
        if not project_id:
            raise Rejected(Ret.BAD_PARAMETER, "missing required parameter: project")
        if not any(p["project_id"] == project_id for p in self.data["projects"]):
            raise Rejected(Ret.NOT_FOUND, f"project {project_id} not found")
        return project_id

    def _cloud(self, cloud_id: int) -> dict[str, Any]:
        cloud = next((c for c in self.data["clouds"] if c["cloud_id"] == cloud_id), None)
        if cloud is None:
            raise Rejected(Ret.NOT_FOUND, f"cloud {cloud_id} not found")
        return cloud

    def _device(self, device_id: int) -> dict[str, Any]:
        return next(d for d in self.data["devices"] if d["device_id"] == device_id)

    def _by_path_id(self, request: Request, collection: str, param: str, noun: str) -> dict[str, Any]:
        """The stored object whose id is the path parameter, or the not-found envelope."""
        key = _int_path(request, param)
        found = self.data[collection].get(str(key))
        if found is None:
            raise Rejected(Ret.NOT_FOUND, f"{noun} {key} not found")
        return found

    def _test(self, request: Request) -> dict[str, Any]:
        return self._by_path_id(request, "tests", "test_id", "test")

    def _plan(self, test: dict[str, Any], request: Request) -> dict[str, Any]:
        device_id = _int_path(request, "device_id")
        plan = next((p for p in test["devices"] if p["device_id"] == device_id), None)
        if plan is None:
            raise Rejected(Ret.NOT_FOUND, f"device {device_id} is not part of test {test['test_id']}")
        return plan

    def _elapsed(self, test: dict[str, Any]) -> float:
        return self._now() - test["submitted_at"]

    # ---- apps

    async def upload_app(self, request: Request) -> Response:
        project = self._project(request.query_params.get("project"))
        name = request.query_params.get("name", "")
        if not name:
            raise Rejected(Ret.BAD_PARAMETER, "missing required parameter: name")
        if extension(name) not in APP_EXTENSIONS:
            raise Rejected(Ret.BAD_PARAMETER, "name must end with .aab, .apk or .ipa")
        part = (await request.form()).get("data")
        if not isinstance(part, UploadFile):
            raise Rejected(Ret.BAD_PARAMETER, "missing required form-data file: data")
        stored = await save_upload(part, self.uploads)
        # The doc lists no app-content errors, so an unreadable app is kept with empty package/version.
        facts = inspect_app(stored.path, name)
        with self.store.lock:
            counter = self.store.next_id("app")
            fid = hashlib.sha1(f"{counter}:{stored.md5}".encode(), usedforsecurity=False).hexdigest()[:24]
            app = {
                "fid": fid,
                "project": project,
                "name": name,
                "size": stored.size,
                "md5": stored.md5,
                "package": facts.package,
                "version": facts.version,
                "platform": app_platform(name),
                "path": str(stored.path),
                "url": f"{FILES_HOST}/storage/{fid}/{name}",
                "icon_url": f"{FILES_HOST}/storage/{fid}/icon.png",
                "sequence": counter,
            }
            self.data["apps"][fid] = app
        return ok(data=_app_view(app))

    async def get_app(self, request: Request) -> Response:
        project = self._project(request.query_params.get("project"))
        fid, md5 = request.query_params.get("fid"), request.query_params.get("hash")
        if not fid and not md5:
            raise Rejected(Ret.BAD_PARAMETER, "missing required parameter: fid or hash")
        in_project = [a for a in self.data["apps"].values() if a["project"] == project]
        matches = [a for a in in_project if a["fid"] == fid] if fid else [a for a in in_project if a["md5"] == md5.lower()]
        if not matches:
            raise Rejected(Ret.NOT_FOUND, "app not found")
        # The same bytes may be uploaded twice; the newest upload answers a hash look-up.
        return ok(data=_app_view(max(matches, key=lambda a: a["sequence"])))

    async def delete_app(self, request: Request) -> Response:
        fid = request.path_params["fid"]
        with self.store.lock:
            app = self.data["apps"].pop(fid, None)
        if app is None:
            raise Rejected(Ret.NOT_FOUND, f"app {fid} not found")
        Path(app["path"]).unlink(missing_ok=True)
        return ok()

    # ---- scripts

    async def upload_script(self, request: Request) -> Response:
        project = request.query_params.get("project")
        if project:
            self._project(project)
        part = (await request.form()).get("file")
        if not isinstance(part, UploadFile):
            raise Rejected(Ret.BAD_PARAMETER, "missing required form-data file: file")
        stored = await save_upload(part, self.uploads)
        with self.store.lock:
            script_id = self.store.next_id("script", start=1000)
            script = {
                "script_id": script_id,
                "user": self.secret_id,
                "size": stored.size,
                "script_url": f"{FILES_HOST}/scripts/{script_id}/{stored.filename or 'script.zip'}",
                "project": project or "",
                "path": str(stored.path),
            }
            self.data["scripts"][str(script_id)] = script
        return ok(script={k: script[k] for k in ("script_id", "size", "script_url")})

    def _script(self, request: Request) -> dict[str, Any]:
        return self._by_path_id(request, "scripts", "script_id", "script")

    async def get_script(self, request: Request) -> Response:
        script = self._script(request)
        return ok(script={k: script[k] for k in ("script_id", "user", "size", "script_url", "project")})

    async def delete_script(self, request: Request) -> Response:
        with self.store.lock:
            script = self._script(request)
            del self.data["scripts"][str(script["script_id"])]
        Path(script["path"]).unlink(missing_ok=True)
        return ok()

    # ---- devices and projects

    async def list_projects(self, request: Request) -> Response:
        return ok(projects=self.data["projects"])

    async def list_clouds(self, request: Request) -> Response:
        return ok(clouds=[{"cloud_id": c["cloud_id"], "cloud_name": c["cloud_name"]} for c in self.data["clouds"]])

    async def list_devices(self, request: Request) -> Response:
        cloud = self._cloud(_int_path(request, "cloud_id"))
        busy = self._busy_devices()
        devices = [self._device_view(d, busy) for d in self.data["devices"] if d["cloud_id"] == cloud["cloud_id"]]
        return ok(devices=devices)

    def _busy_devices(self) -> dict[int, int]:
        """Device id -> id of the test it is running now."""
        busy = {}
        for test in self.data["tests"].values():
            elapsed = self._elapsed(test)
            for plan in test["devices"]:
                if device_result_at(test, plan, elapsed)[0] == DeviceResult.RUNNING:
                    busy[plan["device_id"]] = test["test_id"]
        return busy

    @staticmethod
    def _device_view(device: dict[str, Any], busy: dict[int, int]) -> dict[str, Any]:
        state = "offline" if not device["online"] else "testing" if device["device_id"] in busy else "idle"
        documented = ("cloud_id", "cpu_total", "device_id", "location", "manufacture", "model", "model_id", "ram", "resolution", "version")
        return {
            **{k: device[k] for k in documented},
            "device_state": state,
            "device_state_code": DEVICE_STATES[state],
            "test_id": busy.get(device["device_id"], 0),
        }

    async def list_model_lists(self, request: Request) -> Response:
        project = self._project(request.query_params.get("project"))
        clouds = {c["cloud_id"]: c for c in self.data["clouds"]}
        lists = [
            {
                "id": m["id"],
                "name": m["name"],
                "cloud_name": clouds[m["cloud_id"]]["cloud_name"],
                "device_type": 1 if clouds[m["cloud_id"]]["platform"] == "ios" else 0,
                "model_count": len(m["members"]),
                "cloud_id": m["cloud_id"],
                "filter_type": m["filter_type"],
            }
            for m in self.data["model_lists"]
            if m["project"] == project
        ]
        return ok(count=len(lists), data=lists)

    # ---- tests

    async def submit_test(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError:
            raise Rejected(Ret.BAD_PARAMETER, "request body must be a JSON object") from None
        submission = parse_submission(body)
        with self.store.lock:
            self._project(submission.project)
            app = self.data["apps"].get(submission.app_fid)
            if app is None or app["project"] != submission.project:
                raise Rejected(Ret.NOT_FOUND, f"app {submission.app_fid} not found in project {submission.project}")
            if submission.frame_type == "appium" and str(submission.script_id) not in self.data["scripts"]:
                raise Rejected(Ret.NOT_FOUND, f"script {submission.script_id} not found")
            if submission.resign and app["platform"] != "ios":
                raise Rejected(Ret.BAD_PARAMETER, "resign is for iOS apps only")
            cloud = self._cloud(submission.cloud_id)
            if cloud["platform"] != app["platform"]:
                raise Rejected(Ret.BAD_PARAMETER, f"cloud {cloud['cloud_id']} has no {app['platform']} devices")
            devices = self._choose_devices(submission)
            test_id = self.store.next_id("test", start=880000)
            self.data["tests"][str(test_id)] = {
                "test_id": test_id,
                "project": submission.project,
                "frame_type": submission.frame_type,
                "script_id": submission.script_id,
                "cloud_id": submission.cloud_id,
                "max_test_runtime": submission.max_test_runtime,
                "max_device_runtime": submission.max_device_runtime,
                "scenarios": submission.scenarios,
                "resign": submission.resign,
                "app": {k: app[k] for k in ("fid", "name", "package", "size", "version", "icon_url", "platform")},
                "submitted_at": self._now(),
                "canceled_at": None,
                "devices": plan_devices(test_id, devices, submission, self.options),
            }
        return ok(test_info={"test_id": test_id})

    def _choose_devices(self, submission: Submission) -> list[dict[str, Any]]:
        in_cloud = [d for d in self.data["devices"] if d["cloud_id"] == submission.cloud_id]
        if not submission.devices:
            idle = [d for d in in_cloud if d["online"]]
            if not 1 <= submission.device_number <= len(idle):
                raise Rejected(Ret.BAD_PARAMETER, f"device_number must be between 1 and {len(idle)} for cloud {submission.cloud_id}")
            return idle[: submission.device_number]
        device_ids = {d["device_id"] for d in self.data["devices"]}
        model_ids = {d["model_id"] for d in self.data["devices"]}
        kinds = {"deviceids" if i in device_ids else "modelids" if i in model_ids else "unknown" for i in submission.devices}
        if {"deviceids", "modelids"} <= kinds:
            raise Rejected(Ret.BAD_PARAMETER, "mixing device IDs and model IDs in devices is not allowed")
        wrong = [i for i in submission.devices if i not in (device_ids if submission.choose_type == "deviceids" else model_ids)]
        if wrong:
            kind = "device" if submission.choose_type == "deviceids" else "model"
            raise Rejected(Ret.BAD_PARAMETER, f"devices {wrong} are not {kind} IDs (device_choose_type is {submission.choose_type})")
        if submission.choose_type == "deviceids":
            chosen = [d for i in submission.devices for d in in_cloud if d["device_id"] == i]
        else:
            # One device per model, an online one when the model has it.
            chosen = [
                min((d for d in in_cloud if d["model_id"] == i), key=lambda d: (not d["online"], d["device_id"]))
                for i in submission.devices
                if any(d["model_id"] == i for d in in_cloud)
            ]
        if len(chosen) != len(submission.devices):
            raise Rejected(Ret.BAD_PARAMETER, f"some devices are not in cloud {submission.cloud_id}")
        return chosen

    async def cancel_test(self, request: Request) -> Response:
        with self.store.lock:
            test = self._test(request)
            status, _ = status_at(test, self._elapsed(test))
            if status != StatusCode.TESTING:
                raise Rejected(Ret.WRONG_STATE, f"test {test['test_id']} has already ended ({STATUS_TEXT[status]})")
            test["canceled_at"] = self._now()
        return ok()

    async def test_status(self, request: Request) -> Response:
        test = self._test(request)
        status, end = status_at(test, self._elapsed(test))
        return ok(
            test_status={
                "finished": status != StatusCode.TESTING,
                "start_time": _timestamp(test["submitted_at"]),
                "end_time": "" if end is None else _timestamp(test["submitted_at"] + end),
                "test_id": test["test_id"],
                "status_code": int(status),
                "status": STATUS_TEXT[status],
            }
        )

    async def test_devices(self, request: Request) -> Response:
        test = self._test(request)
        return ok(devices=[self._device_result(test, plan, request) for plan in test["devices"]])

    async def test_device(self, request: Request) -> Response:
        test = self._test(request)
        return ok(device=self._device_result(test, self._plan(test, request), request))

    def _device_result(self, test: dict[str, Any], plan: dict[str, Any], request: Request) -> dict[str, Any]:
        elapsed = self._elapsed(test)
        code, end = device_result_at(test, plan, elapsed)
        device = self._device(plan["device_id"])
        submitted, started = test["submitted_at"], elapsed >= plan["start"]
        base = f"{FILES_HOST}/reports/{test['test_id']}/{plan['device_id']}"
        result: dict[str, Any] = {
            "test_id": test["test_id"],
            "device_id": plan["device_id"],
            "start_time": _timestamp(submitted),
            "device_start_time": _timestamp(submitted + plan["start"]) if started else "",
            "wait_time": int(min(plan["start"], elapsed)),
            "end_time": "" if end is None else _timestamp(submitted + end),
            "case_stat": plan["cases"] if code == plan["outcome"] else {**plan["cases"], "case_success": 0, "case_fail": 0},
            **{k: device[k] for k in ("model", "version", "manufacture", "ram", "cpu_ghz", "cpu_total")},
            "result": RESULT_TEXT[code],
            "result_code": int(code),
            "cost_info": self._cost_info(submitted, plan, elapsed, end),
        }
        if _flag(request, "error"):
            result["errors"] = _device_errors(code, submitted + (end or 0))
        if _flag(request, "image"):
            shots = [] if end is None or code == DeviceResult.UNTESTED else range(1, 4)
            result["images"] = [
                {"image_name": f"screenshot_{n}.png", "image_time": _timestamp(submitted + plan["start"] + n), "image_url": f"{base}/screenshot_{n}.png"}
                for n in shots
            ]
        if _flag(request, "log"):
            done = end is not None
            result["mobile_log_url"] = f"{base}/mobile.log" if done else ""
            result["script_log_url"] = f"{base}/script.log" if done else ""
            result["test_video_url"] = f"{base}/video.mp4" if done else ""
        return result

    @staticmethod
    def _cost_info(submitted: float, plan: dict[str, Any], elapsed: float, end: float | None) -> list[dict[str, Any]]:
        spans = [("queue", 0.0, plan["start"]), ("test", plan["start"], end)]
        return [
            {"process_name": name, "cost": int(stop - begin), "start_time": _timestamp(submitted + begin), "end_time": _timestamp(submitted + stop)}
            for name, begin, stop in spans
            if stop is not None and stop <= elapsed
        ]

    async def device_metrics(self, request: Request) -> Response:
        if request.query_params.get("type") != "perf":
            raise Rejected(Ret.BAD_PARAMETER, "type must be perf")
        test = self._test(request)
        plan = self._plan(test, request)
        elapsed = self._elapsed(test)
        _, end = device_result_at(test, plan, elapsed)
        until = elapsed if end is None else min(end, elapsed)
        ios = test["app"]["platform"] == "ios"
        return ok(data=_perf_samples(self.options.seed, test, plan, until, ios))

    async def test_result(self, request: Request) -> Response:
        test = self._test(request)
        elapsed = self._elapsed(test)
        status, end = status_at(test, elapsed)
        submitted = test["submitted_at"]
        app = test["app"]
        return ok(
            test_result={
                "start_time": _timestamp(submitted),
                "end_time": "" if end is None else _timestamp(submitted + end),
                "frame_type_code": FRAME_TYPES[test["frame_type"]],
                "frame_type": test["frame_type"],
                "report_url": f"{FILES_HOST}/cloudtest/report/{test['test_id']}",
                "status_code": int(status),
                "status": STATUS_TEXT[status],
                "test_id": test["test_id"],
                "test_type": "automation",
                "test_type_code": 1,
                "app_info": {"app_type": app["platform"], **{k: app[k] for k in ("icon_url", "name", "package", "size", "version")}},
                "result_stat": _result_stat(test, elapsed),
            }
        )


def _app_view(app: dict[str, Any]) -> dict[str, Any]:
    return {k: app[k] for k in ("fid", "size", "md5", "url", "name", "package", "version", "icon_url")}


def _device_errors(code: DeviceResult, at: float) -> list[dict[str, str]]:
    described = {
        DeviceResult.COMPATIBILITY_ERROR: ("AssertionError in test case", "test case failed"),
        DeviceResult.UNTESTED: ("device not reachable", "device exception, not tested"),
        DeviceResult.TIMEOUT: ("device runtime exceeded max_device_runtime", "device timeout"),
        DeviceResult.SYSTEM_CANCELED: ("test runtime exceeded max_test_runtime", "canceled by system"),
        DeviceResult.USER_CANCELED: ("test canceled", "canceled by user"),
    }
    if code not in described:
        return []
    content, description = described[code]
    return [{"content": content, "description": description, "error_time": _timestamp(at), "level": "error"}]


def _perf_samples(seed: int, test: dict[str, Any], plan: dict[str, Any], until: float, ios: bool) -> list[dict[str, Any]]:
    """One sample per interval of the device's run so far; at most 120 of them."""
    run = until - plan["start"]
    if run <= 0:
        return []
    interval = max(5.0, (test["max_device_runtime"]) / 120)
    rng = seeded_random(seed, "wetest-perf", test["test_id"], plan["device_id"])
    samples = []
    for n in range(1, int(run // interval) + 1):
        memory = rng.randint(150, 400)
        samples.append(
            {
                "cpu_app": round(rng.uniform(2, 40), 2),
                "cpu_total": round(rng.uniform(10, 80), 2),
                "fps": rng.randint(24, 60),
                "ios_memory": memory if ios else 0,
                "label": "",
                "mem_native_pss": 0 if ios else memory // 3,
                "mem_pss": 0 if ios else memory,
                "net_in": rng.randint(0, 500),
                "net_out": rng.randint(0, 120),
                "timestamp": int(virtual_datetime(test["submitted_at"] + plan["start"] + n * interval).timestamp()),
            }
        )
    return samples


def _result_stat(test: dict[str, Any], elapsed: float) -> dict[str, Any]:
    codes = [device_result_at(test, plan, elapsed)[0] for plan in test["devices"]]
    started = [plan["start"] for plan in test["devices"] if plan["start"] <= elapsed]
    waits = [int(min(plan["start"], elapsed)) for plan in test["devices"]]
    total = len(codes)
    passed = codes.count(DeviceResult.PASSED)
    running = codes.count(DeviceResult.RUNNING)
    exceptions = total - passed - running
    submitted = test["submitted_at"]
    return {
        "total_device_number": total,
        "pass_device_number": passed,
        "exception_device_number": exceptions,
        "in_process_device_number": running,
        # "fist" is the doc's spelling (line 550); clients read this key.
        "fist_start_device_time": _timestamp(submitted + min(started)) if started else "",
        "max_wait_time": max(waits),
        "min_wait_time": min(waits),
        "last_start_device_time": _timestamp(submitted + max(started)) if started else "",
        "pass_rate": round(passed / total, 4),
        "exception_rate": round(exceptions / total, 4),
    }


def build_app(options: EmulatorOptions | None = None) -> EmulatorApp:
    options = options or EmulatorOptions()
    store = JsonStore(options.data_file, initial_data)
    accepted = (
        options.credentials.get("secret_id", SANDBOX_SECRET_ID),
        options.credentials.get("secret_key", SANDBOX_SECRET_KEY),
    )
    emulator = WeTestEmulator(options, store, secret_id=accepted[0])
    guard = require_basic_auth(
        accepted, lambda: failure(Ret.AUTH_FAILED, "authentication failed: invalid SecretId:SecretKey", status=401)
    )
    table = [
        ("POST", "/platform/upload/storage", emulator.upload_app),
        ("GET", "/platform/upload/info", emulator.get_app),
        ("DELETE", "/platform/upload/info/{fid}", emulator.delete_app),
        ("POST", "/scripts", emulator.upload_script),
        ("GET", "/scripts/{script_id}", emulator.get_script),
        ("DELETE", "/scripts/{script_id}", emulator.delete_script),
        ("GET", "/users/clouds", emulator.list_clouds),
        ("GET", "/clouds/{cloud_id}/devices", emulator.list_devices),
        ("GET", "/model/list", emulator.list_model_lists),
        ("POST", "/tests/automation", emulator.submit_test),
        ("POST", "/tests/{test_id}/cancelation", emulator.cancel_test),
        ("GET", "/tests/{test_id}/status", emulator.test_status),
        ("GET", "/tests/{test_id}/devices", emulator.test_devices),
        ("GET", "/tests/{test_id}/devices/{device_id}", emulator.test_device),
        ("GET", "/tests/{test_id}/devices/{device_id}/metrics", emulator.device_metrics),
        ("GET", "/tests/{test_id}/result", emulator.test_result),
        ("GET", "/users/projects", emulator.list_projects),
    ]
    routes = [Route(BASE + path, guard(answer_rejections(handler)), methods=[method]) for method, path, handler in table]
    return EmulatorApp("wetest", routes, options, _error_body, store)
