"""The apptest.ai emulator: the three testset endpoints behind HTTP Basic, the maintenance switch,
and a control route that loses a testset's data (what a refresh must notice)."""

from __future__ import annotations

from email.utils import format_datetime
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from labform.providers.apptest.emulator.new_testset import SUPPORTED_EXTENSIONS, DataReader
from labform.providers.apptest.emulator.reports import junit_json, junit_xml, result_html
from labform.providers.apptest.emulator.seed import SANDBOX_ACCESS_KEY, SANDBOX_USER_ID, initial_data
from labform.providers.apptest.emulator.timeline import plan_tests, status_detail
from labform.providers.apptest.emulator.variants import DEFAULT, VARIANTS, Variants
from labform.providers.apptest.emulator.wire import DEFECT_CODES, envelope, envelope_body, result_code
from labform.providers.emulation import (
    CONTROL_PREFIX,
    Emulator,
    EmulatorApp,
    EmulatorEntry,
    EmulatorOptions,
    Handler,
    JsonStore,
    Rejection,
    extension,
    inspect_app,
    require_basic_auth,
    save_upload,
    virtual_datetime,
)

BASE = "/openapi/v2/testset"


def set_maintenance(app: EmulatorApp, on: bool) -> None:
    """Make every endpoint answer 8000 (System Maintenance) until switched off."""
    _record_maintenance(app.store, on)
    app.store.save()


def _record_maintenance(store: JsonStore, on: bool) -> None:
    with store.lock:
        store.data["maintenance"] = on


def forget_testset(app: EmulatorApp, testset_id: int | str) -> None:
    """Lose a testset's data, as a cloud may ("Test data does not exist", doc line 268): the doc has no delete call."""
    _drop_testset(app.store, testset_id)
    app.store.save()


def _drop_testset(store: JsonStore, testset_id: int | str) -> bool:
    with store.lock:
        return store.data["testsets"].pop(str(testset_id), None) is not None


class AppTestEmulator(Emulator):
    name = "apptest"

    def __init__(self, options: EmulatorOptions, variants: Variants = DEFAULT):
        super().__init__(options)
        self.variants = variants
        self.reader = DataReader(variants)

    def _extra(self, documented: dict[str, Any], **more: Any) -> dict[str, Any]:
        """The doc's keys, plus ``more`` on the server that adds keys of its own."""
        return {**documented, **more} if self.variants.extra_keys else documented

    def initial_data(self) -> dict[str, Any]:
        return initial_data()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return envelope_body({}, status, "Error", message)

    async def create_testset(self, request: Request) -> Response:
        form = await request.form()
        raw = form.get("data")
        if raw is None:
            raise result_code(4000, "data")
        app_file = form.get("app_file")
        fields = self.reader.parse(await raw.read() if isinstance(raw, UploadFile) else raw)
        if not isinstance(app_file, UploadFile):
            raise result_code(4051)
        project = self.data["projects"].get(fields.pid)
        if project is None:
            raise result_code(4052, fields.pid)
        filename = app_file.filename or ""
        if extension(filename) not in SUPPORTED_EXTENSIONS:
            raise result_code(4050)
        stored = await save_upload(app_file, self.uploads)
        try:
            devices = self._check_app(stored.path, filename, stored.size, project)
        except Rejection:
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
                "created_at": self.now(),
                "tests": plan_tests(testset_id, devices, span, self.options),
            }
        return envelope(self._extra({"test_count": len(devices), "testset_id": testset_id}, pid=project["pid"]))

    def _check_app(self, path: Path, filename: str, size: int, project: dict[str, Any]) -> list[str]:
        """Reject an app that cannot run on the project's preset; else the devices it will run on."""
        if size == 0:
            raise result_code(self.variants.empty_app, "the file is empty")
        facts = inspect_app(path, filename)
        if facts.defect is not None:
            raise result_code(DEFECT_CODES[facts.defect], facts.detail)
        if facts.platform != project["platform"]:
            raise result_code(4055, facts.platform)
        if not project["devices"]:
            raise result_code(4080)
        available = [d["name"] for d in project["devices"] if d["available"]]
        if not available:
            raise result_code(4081)
        return available

    def _testset(self, request: Request, missing_code: int) -> dict[str, Any]:
        """The testset the path names; ``missing_code`` when the account has none by that id."""
        raw = request.path_params["testset_id"]
        testset = self.data["testsets"].get(str(int(raw))) if raw.isdigit() else None
        if testset is None:
            raise result_code(missing_code, raw if missing_code == 4053 else f"no testset {raw}")
        return testset

    def _elapsed(self, testset: dict[str, Any]) -> float:
        return self.now() - testset["created_at"]

    @staticmethod
    def _complete(testset: dict[str, Any], elapsed: float) -> bool:
        return all(elapsed >= test["end"] for test in testset["tests"])

    async def testset_status(self, request: Request) -> Response:
        testset = self._testset(request, missing_code=self.variants.unknown_status)
        elapsed = self._elapsed(testset)
        status = {
            "testset_status": "Complete" if self._complete(testset, elapsed) else "Running",
            "testset_status_detail": status_detail(testset, elapsed),
            "response_time": format_datetime(virtual_datetime(self.now()), usegmt=True),
        }
        return envelope(self._extra(status, testset_name=testset["testset_name"]))

    async def testset_result(self, request: Request) -> Response:
        testset = self._testset(request, missing_code=6003)
        if not self._complete(testset, self._elapsed(testset)):
            raise result_code(6002)
        project_name = self.data["projects"][str(testset["pid"])]["name"]
        result = {
            "complete": True,
            "result_html": result_html(testset, project_name),
            "result_xml": junit_xml(testset, project_name),
            "result_json": junit_json(testset, project_name),
        }
        # The result example writes "result_msg": 0 (doc line 232), the others "": each as written, or "" everywhere.
        return envelope(
            self._extra(result, testset_id=testset["testset_id"]),
            msg=0 if self.variants.result_msg == "zero_on_result" else "",
        )

    async def switch_maintenance(self, request: Request) -> Response:
        on = request.query_params.get("on", "1") in ("1", "true")
        _record_maintenance(self.store, on)
        return JSONResponse({"maintenance": on})

    async def drop_testset(self, request: Request) -> Response:
        dropped = _drop_testset(self.store, request.path_params["testset_id"])
        return JSONResponse({"dropped": dropped})

    def unless_maintenance(self, handler: Handler) -> Handler:
        async def checked(request: Request) -> Response:
            if self.data["maintenance"]:
                raise result_code(8000)
            return await handler(request)

        return checked

    def routes(self) -> list[BaseRoute]:
        accepted = (
            self.options.credentials.get("user_id", SANDBOX_USER_ID),
            self.options.credentials.get("access_key", SANDBOX_ACCESS_KEY),
        )
        unauthorized = envelope_body({}, 401, "Unauthorized", "Invalid user_id or access_key.")
        guard = require_basic_auth(
            accepted, lambda: Rejection(self.variants.auth_status, unauthorized, "bad credentials")
        )
        table = [
            ("POST", BASE, self.create_testset),
            ("GET", BASE + "/{testset_id}", self.testset_status),
            ("GET", BASE + "/{testset_id}/result", self.testset_result),
        ]
        routes: list[BaseRoute] = [
            Route(path, guard(self.unless_maintenance(handler)), methods=[method]) for method, path, handler in table
        ]
        control = [
            Route(CONTROL_PREFIX + "/maintenance", self.switch_maintenance, methods=["POST"]),
            Route(CONTROL_PREFIX + "/testsets/{testset_id}", self.drop_testset, methods=["DELETE"]),
        ]
        return routes + control


def build_app(options: EmulatorOptions | None = None, variant: str = "default") -> EmulatorApp:
    """The emulator reading the doc as ``VARIANTS[variant]`` does."""
    return AppTestEmulator(options or EmulatorOptions(), VARIANTS[variant]).app()


SANDBOX = EmulatorEntry(
    build_app=build_app,
    provider_settings=lambda url: {"endpoint": url, "user_id": SANDBOX_USER_ID, "access_key": SANDBOX_ACCESS_KEY},
)
