"""``WeTestCore``: the account's credentials, the variant read, and what every handler area uses:
lookups, the refusal renderer, times as the variant writes them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.emulation import Emulator, EmulatorOptions, Rejection
from labform.providers.wetest.emulator.seed import SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY, initial_data
from labform.providers.wetest.emulator.timeline import device_result_at
from labform.providers.wetest.emulator.variants import DEFAULT, Variants
from labform.providers.wetest.emulator.vocabulary import DeviceResult, Ret
from labform.providers.wetest.emulator.wire import TIME_FORMATS, int_path, refusal_response, rejected


class WeTestCore(Emulator):
    """The stored records and their lookups; handler areas (the mixins in app.py) build on it."""

    name = "wetest"

    def __init__(self, options: EmulatorOptions, variants: Variants = DEFAULT):
        super().__init__(options)
        self.variants = variants
        self.accepted = (
            options.credentials.get("secret_id", SANDBOX_SECRET_ID),
            options.credentials.get("secret_key", SANDBOX_SECRET_KEY),
        )

    def initial_data(self) -> dict[str, Any]:
        return initial_data()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"ret": status, "msg": message}

    def render(self, request: Request, rejection: Rejection) -> Response:
        return refusal_response(rejection, self.variants)

    # ---- how the variant writes things

    def stamp(self, seconds: float | None) -> str | None:
        """A virtual time as the variant writes it; None while it is not known (see ``times``)."""
        return None if seconds is None else TIME_FORMATS[self.variants.time_format](seconds)

    def times(self, fields: dict[str, Any]) -> dict[str, Any]:
        """``fields`` with each unknown (None) time written "" or left out, as the variant reads the doc."""
        if self.variants.unknown_time == "absent":
            return {key: value for key, value in fields.items() if value is not None}
        return {key: "" if value is None else value for key, value in fields.items()}

    def extra(self, documented: dict[str, Any], **more: Any) -> dict[str, Any]:
        """The doc's keys, plus ``more`` on the server that adds keys of its own."""
        return {**documented, **more} if self.variants.extra_keys else documented

    # ---- lookups

    def _project(self, project_id: str) -> str:
        if not any(p["project_id"] == project_id for p in self.data["projects"]):
            raise rejected(Ret.NOT_FOUND, f"project {project_id} not found")
        return project_id

    def _cloud(self, cloud_id: int) -> dict[str, Any]:
        cloud = next((c for c in self.data["clouds"] if c["cloud_id"] == cloud_id), None)
        if cloud is None:
            raise rejected(Ret.NOT_FOUND, f"cloud {cloud_id} not found")
        return cloud

    def _device(self, device_id: int) -> dict[str, Any]:
        return next(d for d in self.data["devices"] if d["device_id"] == device_id)

    def _busy_devices(self) -> dict[int, int]:
        """Device id -> id of the test it is running now."""
        busy = {}
        for test in self.data["tests"].values():
            elapsed = self._elapsed(test)
            for plan in test["devices"]:
                if device_result_at(test, plan, elapsed)[0] == DeviceResult.RUNNING:
                    busy[plan["device_id"]] = test["test_id"]
        return busy

    def _by_path_id(self, request: Request, collection: str, param: str, noun: str) -> dict[str, Any]:
        """The stored object whose id is the path parameter, or the not-found envelope."""
        key = int_path(request, param)
        found = self.data[collection].get(str(key))
        if found is None:
            raise rejected(Ret.NOT_FOUND, f"{noun} {key} not found")
        return found

    def _test(self, request: Request) -> dict[str, Any]:
        return self._by_path_id(request, "tests", "test_id", "test")

    def _plan(self, test: dict[str, Any], request: Request) -> dict[str, Any]:
        device_id = int_path(request, "device_id")
        plan = next((p for p in test["devices"] if p["device_id"] == device_id), None)
        if plan is None:
            raise rejected(Ret.NOT_FOUND, f"device {device_id} is not part of test {test['test_id']}")
        return plan

    def _elapsed(self, test: dict[str, Any]) -> float:
        return self.now() - test["submitted_at"]
