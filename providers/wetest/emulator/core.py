"""``WeTestCore``: the account's credentials and the lookups every handler area uses."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from providers.emulation import Emulator, EmulatorOptions
from providers.wetest.emulator.seed import SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY, initial_data
from providers.wetest.emulator.vocabulary import Ret
from providers.wetest.emulator.wire import int_path, rejected


class WeTestCore(Emulator):
    """The stored records and their lookups; handler areas (the mixins in app.py) build on it."""

    name = "wetest"

    def __init__(self, options: EmulatorOptions):
        super().__init__(options)
        self.accepted = (
            options.credentials.get("secret_id", SANDBOX_SECRET_ID),
            options.credentials.get("secret_key", SANDBOX_SECRET_KEY),
        )

    def initial_data(self) -> dict[str, Any]:
        return initial_data()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"ret": status, "msg": message}

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
