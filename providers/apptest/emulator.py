"""apptest.ai openapi v2 emulator (shared/api-docs/apptestai-openapi-v2.md).

Faithful to the doc: the three endpoints under ``/openapi/v2/testset``, HTTP
Basic ``user_id:access_key``, the multipart request (an ``app_file`` part and a
JSON ``data`` part), the ``{"data", "result_code", "result_msg", "reason"}``
envelope, the result codes and their messages (worded as in the Appendix,
lines 271-294, where it and the per-endpoint tables differ), ``Running`` /
``Complete`` with the detail counts, and a JUnit ``result_xml`` shaped like the
doc's example (lines 249-259).

Where the doc is silent or loose, this emulator decides, and says so:

- Every documented result code is answered with HTTP 200 (the doc pairs each
  error with a body code only). Bad credentials, which the doc does not cover,
  get HTTP 401 with ``result_code`` 401 in the same envelope.
- ``data`` fields: ``pid`` and ``testset_name`` are required (4000); ``app_file``
  missing is 4051. ``time_limit`` (the doc's table spells it ``time_limmit``,
  line 41, its example ``time_limit``, line 56: both are read, ``time_limit``
  first), ``use_vo``, ``callback`` and ``credentials`` are optional: the doc's
  own example omits ``callback`` and says an empty time limit falls back to the
  project's setting.
- The doc gives bounds (time limit 5-30 minutes, name 100, callback 250,
  login id / password 150 characters) but no code for breaking them, nor for
  a ``data`` part that is not JSON. They answer 5001, the doc's catch-all of
  Run New Testset ("Global Exception Error – ...").
- Unknown testset id: 4053 on the status endpoint, 6003 on the result endpoint
  (the only not-found code of its table, line 268).
- An empty ``app_file`` is 6001 (nothing was uploaded). The app analysis codes
  come from ``inspect_app``: not a zip or no manifest / Info.plist 4032,
  unreadable manifest 4040, no LAUNCHER category 4041, unreadable Info.plist
  4030, an IPA without a development provisioning profile 4031.
- 5002 / 5003 are server faults no input can cause; they are not produced.
- 8000 (maintenance) is switched by ``set_maintenance(app, True)`` or, over
  HTTP, ``POST /_emulator/maintenance?on=1`` (``on=0`` to end it); it is kept
  in the store, and while on every endpoint answers 8000.
- The callback URL is recorded, not called (the emulator makes no outbound
  requests). Result page links use the reserved host ``apptest.emulator.invalid``.
- ``result_msg`` is ``""`` on success (the result example's ``0``, line 232,
  reads as a slip).

Timing: a testset runs one test per available device of its project. With
``S = min(job_duration, time_limit·60)``, test ``i`` of ``n`` initializes until
``0.1·S`` and runs until ``S·(0.1 + 0.9·(i+1)/n)``; the testset is Complete
when the last ends. Read lazily from ``options.clock``; nothing runs in the
background. ``failure_share`` of the tests, chosen by ``seed``, end Fail; the
rest Pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from providers.emulator_helpers import (
    AppDefect,
    Rejection,
    answer_rejections,
    extension,
    failing_positions,
    inspect_app,
    require_basic_auth,
    save_upload,
    seeded_random,
    upload_directory,
    virtual_datetime,
)
from providers.emulator_kit import (
    CONTROL_PREFIX,
    EmulatorApp,
    EmulatorOptions,
    JsonStore,
)

SANDBOX_USER_ID = "sandbox-apptest-user"
SANDBOX_ACCESS_KEY = "sandbox-apptest-key"

BASE = "/openapi/v2/testset"
RESULT_HOST = "https://apptest.emulator.invalid"
SUPPORTED_EXTENSIONS = ("ipa", "zip", "app", "apk", "xapk", "apks")
TIME_LIMIT_RANGE = (5, 30)
MAX_LENGTHS = {"testset_name": 100, "callback": 250, "login_id": 150, "login_pw": 150}
# Share of a test's span spent initializing before it runs.
INIT_SHARE = 0.1

# result_code -> (result_msg, reason template), Appendix lines 275-294.
RESULT_CODES: dict[int, tuple[str, str]] = {
    4000: ("Missing Request Parameter", "The required parameter was not found in the request parameters : ({0})"),
    4030: ("App File Analysis Failed", "iOS plistlib Parsing Error : {0}"),
    4031: (
        "App File Analysis Failed",
        "Test creation failed : There was a problem pre-processing your app file. \n the IPA file must be a "
        "development version that is signed by your development certificate.",
    ),
    4032: ("App File Analysis Failed", "Test creation failed : Invalid app file. \n There was a problem pre-processing your app file."),
    4040: ("App File Analysis Failed", "Android Manifest Parsing Error : {0}"),
    4041: ("App File Analysis Failed", "No launchable activity found. (android.intent.category.LAUNCHER)"),
    4050: ("Invalid Request Parameter", "File extension not supported. (support : ipa, zip, app, apk, xapk, apks)"),
    4051: ("Invalid Request Parameter", "The required parameter was not found in the request parameters: (app_file)"),
    4052: ("Invalid Request Parameter", "Invalid request parameter : (project_id : {0})"),
    4053: ("Invalid Request Parameter", "Invalid request parameter : (testset_id : {0})"),
    4055: ("Invalid Request Parameter", "Device is not compatible with this app : (App os type : {0})"),
    4080: ("Invalid Request Parameter", "Device info does not exist in preset project data."),
    4081: ("Invalid Request Parameter", "Available devices does not exist in preset project data."),
    5001: ("Run New Testset Error", "Global Exception Error – {0}"),
    5002: ("Get Testset Status Error", "Global Exception Error – {0}"),
    5003: ("Get Testset Result Data Error", "Global Exception Error – {0}"),
    6001: ("App File Upload Error", "App file upload fail."),
    6002: ("Get Testset Result Data Failed", "Test is running yet. Please request when the test is complete."),
    6003: ("Data Does Not Exist", "Test data does not exist."),
    8000: ("System Maintenance", "The Service is currently under system maintenance."),
}
DEFECT_CODES = {
    AppDefect.INVALID_ARCHIVE: 4032,
    AppDefect.MANIFEST_UNREADABLE: 4040,
    AppDefect.NO_LAUNCHER: 4041,
    AppDefect.PLIST_UNREADABLE: 4030,
    AppDefect.NOT_DEVELOPMENT_SIGNED: 4031,
}

# ---------------------------------------------------------------- seed


def _devices(*names: str, available: bool = True) -> list[dict[str, Any]]:
    return [{"name": name, "available": available} for name in names]


# Project presets, keyed by pid. 511 and 512 exist to reach 4080 and 4081.
SANDBOX_PROJECTS: dict[str, dict[str, Any]] = {
    "509": {
        "pid": 509,
        "name": "Demo Android",
        "platform": "android",
        "time_limit": 10,
        "devices": _devices("Galaxy S22 (Android 13)", "Pixel 7 (Android 14)", "Galaxy A52 (Android 12)"),
    },
    "510": {
        "pid": 510,
        "name": "Demo iOS",
        "platform": "ios",
        "time_limit": 10,
        "devices": _devices("iPhone 14 (iOS 17)", "iPhone 12 (iOS 16)"),
    },
    "511": {"pid": 511, "name": "No device preset", "platform": "android", "time_limit": 10, "devices": []},
    "512": {
        "pid": 512,
        "name": "Devices unavailable",
        "platform": "android",
        "time_limit": 10,
        "devices": _devices("Galaxy S10 (Android 11)", available=False),
    },
}


def initial_data() -> dict[str, Any]:
    return {"projects": json.loads(json.dumps(SANDBOX_PROJECTS)), "testsets": {}, "maintenance": False}


# ---------------------------------------------------------------- envelope


def envelope(data: Any, code: int = 0, msg: str = "", reason: str = "", status: int = 200) -> JSONResponse:
    return JSONResponse({"data": data, "result_code": code, "result_msg": msg, "reason": reason}, status_code=status)


class ResultCode(Rejection):
    """A documented non-zero result code, answered as HTTP 200."""

    def __init__(self, code: int, detail: object = ""):
        msg, template = RESULT_CODES[code]
        reason = template.format(detail)
        super().__init__(envelope({}, code, msg, reason), f"{code} {reason}")


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"data": {}, "result_code": status, "result_msg": "Error", "reason": message}


# ---------------------------------------------------------------- request data


@dataclass(frozen=True)
class NewTestset:
    pid: str
    testset_name: str
    time_limit: int | None
    use_vo: bool
    callback: str


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ResultCode(5001, f"{key} must be a string")
    if len(value) > MAX_LENGTHS[key]:
        raise ResultCode(5001, f"{key} is longer than {MAX_LENGTHS[key]} characters")
    return value


def _time_limit(data: dict[str, Any]) -> int | None:
    value = data.get("time_limit", data.get("time_limmit"))
    if value in (None, ""):
        return None
    low, high = TIME_LIMIT_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ResultCode(5001, f"time_limit must be a number of minutes from {low} to {high}")
    return value


def _pid(value: Any) -> str:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise ResultCode(4052, value)
    return str(int(value))


def parse_data(raw: str | bytes) -> NewTestset:
    """The ``data`` part: presence first (4000), then shapes and bounds (4052 / 5001)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ResultCode(5001, f"data is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ResultCode(5001, "data must be a JSON object")
    for key in ("pid", "testset_name"):
        if data.get(key) in (None, ""):
            raise ResultCode(4000, key)
    credentials = data.get("credentials") or {}
    if not isinstance(credentials, dict):
        raise ResultCode(5001, "credentials must be an object with login_id and login_pw")
    for key in ("login_id", "login_pw"):
        if key in credentials:
            _text(credentials[key], key)
    use_vo = data.get("use_vo", False)
    if not isinstance(use_vo, bool):
        raise ResultCode(5001, "use_vo must be true or false")
    return NewTestset(
        pid=_pid(data["pid"]),
        testset_name=_text(data["testset_name"], "testset_name"),
        time_limit=_time_limit(data),
        use_vo=use_vo,
        callback=_text(data.get("callback") or "", "callback"),
    )


# ---------------------------------------------------------------- testset timeline


def plan_tests(testset_id: int, devices: list[str], span: float, options: EmulatorOptions) -> list[dict[str, Any]]:
    rng = seeded_random(options.seed, "apptest", testset_id)
    failing = failing_positions(len(devices), options.failure_share, rng)
    count = len(devices)
    return [
        {
            "device": name,
            "running_from": span * INIT_SHARE,
            "end": span * (INIT_SHARE + (1 - INIT_SHARE) * (index + 1) / count),
            "outcome": "Fail" if index in failing else "Pass",
        }
        for index, name in enumerate(devices)
    ]


def phase_at(test: dict[str, Any], elapsed: float) -> str:
    if elapsed < test["running_from"]:
        return "Initializing"
    if elapsed < test["end"]:
        return "Running"
    return test["outcome"]


def status_detail(testset: dict[str, Any], elapsed: float) -> dict[str, int]:
    phases = [phase_at(test, elapsed) for test in testset["tests"]]
    return {
        "total_test_cnt": len(phases),
        # Emulated failures are all Fail and there is no stop endpoint, so no Error / stopped tests.
        "error_cnt": 0,
        "fail_cnt": phases.count("Fail"),
        "initializing_cnt": phases.count("Initializing"),
        "running_cnt": phases.count("Running"),
        "stop_cnt": 0,
        "pass_cnt": phases.count("Pass"),
    }


def result_link(testset: dict[str, Any], index: int) -> str:
    return f"{RESULT_HOST}/testset/{testset['testset_id']}/test/{index + 1}"


def junit_xml(testset: dict[str, Any], project_name: str) -> str:
    """JUnit XML as in the doc: a <system-out> link for a pass, an <error message=link/> otherwise."""
    suites = ElementTree.Element("testsuites", name="TestBot Test")
    suite = ElementTree.SubElement(suites, "testsuite", name=f"{project_name}.TestBot")
    for index, test in enumerate(testset["tests"]):
        case = ElementTree.SubElement(suite, "testcase", name=test["device"], time=_seconds(test))
        if test["outcome"] == "Pass":
            ElementTree.SubElement(case, "system-out").text = result_link(testset, index)
        else:
            ElementTree.SubElement(case, "error", message=result_link(testset, index))
    ElementTree.indent(suites, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode")


def junit_json(testset: dict[str, Any], project_name: str) -> str:
    cases = []
    for index, test in enumerate(testset["tests"]):
        case: dict[str, Any] = {"name": test["device"], "time": _seconds(test)}
        if test["outcome"] == "Pass":
            case["system-out"] = result_link(testset, index)
        else:
            case["error"] = {"message": result_link(testset, index)}
        cases.append(case)
    suite = {"name": f"{project_name}.TestBot", "testcase": cases}
    return json.dumps({"testsuites": {"name": "TestBot Test", "testsuite": [suite]}})


def result_html(testset: dict[str, Any], project_name: str) -> str:
    rows = "".join(
        f'<tr><td>{_escape(t["device"])}</td><td>{t["outcome"]}</td><td>{_seconds(t)}</td>'
        f'<td><a href="{result_link(testset, i)}">result</a></td></tr>'
        for i, t in enumerate(testset["tests"])
    )
    title = _escape(f"{project_name} – {testset['testset_name']}")
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<table><tr><th>Device</th><th>Result</th><th>Time (s)</th><th>Link</th></tr>{rows}</table></body></html>"
    )


def _seconds(test: dict[str, Any]) -> str:
    return f"{test['end'] - test['running_from']:.3f}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- the emulator


def set_maintenance(app: EmulatorApp, on: bool) -> None:
    """Make every endpoint answer 8000 (System Maintenance) until switched off."""
    _record_maintenance(app.store, on)
    app.store.save()


def _record_maintenance(store: JsonStore, on: bool) -> None:
    with store.lock:
        store.data["maintenance"] = on


class AppTestEmulator:
    """Handlers over one ``JsonStore``; ``build_app`` wires them to routes."""

    def __init__(self, options: EmulatorOptions, store: JsonStore):
        self.options = options
        self.store = store
        self.uploads = upload_directory(options, "apptest")

    @property
    def data(self) -> dict[str, Any]:
        return self.store.data

    def _now(self) -> float:
        return self.options.clock.now()

    async def create_testset(self, request: Request) -> Response:
        form = await request.form()
        raw = form.get("data")
        if raw is None:
            raise ResultCode(4000, "data")
        app_file = form.get("app_file")
        fields = parse_data(await raw.read() if isinstance(raw, UploadFile) else raw)
        if not isinstance(app_file, UploadFile):
            raise ResultCode(4051)
        project = self.data["projects"].get(fields.pid)
        if project is None:
            raise ResultCode(4052, fields.pid)
        filename = app_file.filename or ""
        if extension(filename) not in SUPPORTED_EXTENSIONS:
            raise ResultCode(4050)
        stored = await save_upload(app_file, self.uploads)
        try:
            devices = self._check_app(stored.path, filename, stored.size, project)
        except ResultCode:
            stored.path.unlink(missing_ok=True)
            raise
        # No time limit given: the project's setting applies (doc line 41).
        time_limit = fields.time_limit or project["time_limit"]
        span = min(self.options.job_duration, time_limit * 60)
        with self.store.lock:
            testset_id = self.store.next_id("testset", start=251928)
            self.data["testsets"][str(testset_id)] = {
                "testset_id": testset_id,
                "pid": project["pid"],
                "testset_name": fields.testset_name,
                "time_limit": time_limit,
                "use_vo": fields.use_vo,
                "callback": fields.callback,
                "app": {"name": filename, "size": stored.size, "md5": stored.md5, "path": str(stored.path)},
                "created_at": self._now(),
                "tests": plan_tests(testset_id, devices, span, self.options),
            }
        return envelope({"test_count": len(devices), "testset_id": testset_id})

    @staticmethod
    def _check_app(path: Path, filename: str, size: int, project: dict[str, Any]) -> list[str]:
        """Reject an app that cannot run on the project's preset; else the devices it will run on."""
        if size == 0:
            raise ResultCode(6001)
        facts = inspect_app(path, filename)
        if facts.defect is not None:
            raise ResultCode(DEFECT_CODES[facts.defect], facts.detail)
        if facts.platform != project["platform"]:
            raise ResultCode(4055, facts.platform)
        if not project["devices"]:
            raise ResultCode(4080)
        available = [d["name"] for d in project["devices"] if d["available"]]
        if not available:
            raise ResultCode(4081)
        return available

    def _testset(self, request: Request, missing_code: int) -> dict[str, Any]:
        raw = request.path_params["testset_id"]
        if not raw.isdigit():
            raise ResultCode(4053, raw)
        testset = self.data["testsets"].get(str(int(raw)))
        if testset is None:
            raise ResultCode(missing_code, raw)
        return testset

    def _elapsed(self, testset: dict[str, Any]) -> float:
        return self._now() - testset["created_at"]

    @staticmethod
    def _complete(testset: dict[str, Any], elapsed: float) -> bool:
        return all(elapsed >= test["end"] for test in testset["tests"])

    async def testset_status(self, request: Request) -> Response:
        testset = self._testset(request, missing_code=4053)
        elapsed = self._elapsed(testset)
        return envelope(
            {
                "testset_status": "Complete" if self._complete(testset, elapsed) else "Running",
                "testset_status_detail": status_detail(testset, elapsed),
                "response_time": format_datetime(virtual_datetime(self._now()), usegmt=True),
            }
        )

    async def testset_result(self, request: Request) -> Response:
        testset = self._testset(request, missing_code=6003)
        if not self._complete(testset, self._elapsed(testset)):
            raise ResultCode(6002)
        project_name = self.data["projects"][str(testset["pid"])]["name"]
        return envelope(
            {
                "complete": True,
                "result_html": result_html(testset, project_name),
                "result_xml": junit_xml(testset, project_name),
                "result_json": junit_json(testset, project_name),
            }
        )

    async def switch_maintenance(self, request: Request) -> Response:
        on = request.query_params.get("on", "1") in ("1", "true")
        _record_maintenance(self.store, on)
        return JSONResponse({"maintenance": on})

    def unless_maintenance(self, handler):
        async def checked(request: Request) -> Response:
            if self.data["maintenance"]:
                raise ResultCode(8000)
            return await handler(request)

        return checked


def build_app(options: EmulatorOptions | None = None) -> EmulatorApp:
    options = options or EmulatorOptions()
    store = JsonStore(options.data_file, initial_data)
    emulator = AppTestEmulator(options, store)
    accepted = (
        options.credentials.get("user_id", SANDBOX_USER_ID),
        options.credentials.get("access_key", SANDBOX_ACCESS_KEY),
    )
    guard = require_basic_auth(
        accepted, lambda: envelope({}, 401, "Unauthorized", "Invalid user_id or access_key.", status=401)
    )
    table = [
        ("POST", BASE, emulator.create_testset),
        ("GET", BASE + "/{testset_id}", emulator.testset_status),
        ("GET", BASE + "/{testset_id}/result", emulator.testset_result),
    ]
    routes = [
        Route(path, guard(answer_rejections(emulator.unless_maintenance(handler))), methods=[method])
        for method, path, handler in table
    ]
    routes.append(Route(CONTROL_PREFIX + "/maintenance", emulator.switch_maintenance, methods=["POST"]))
    return EmulatorApp("apptest", routes, options, _error_body, store)
