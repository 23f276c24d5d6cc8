"""The WeTest emulator assembled: every handler area behind HTTP Basic, and the route table."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from labform.providers.emulation import EmulatorApp, EmulatorEntry, EmulatorOptions, require_basic_auth
from labform.providers.wetest.emulator.automation import AutomationHandlers
from labform.providers.wetest.emulator.catalogue import CatalogueHandlers
from labform.providers.wetest.emulator.seed import SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY
from labform.providers.wetest.emulator.uploads import UploadHandlers
from labform.providers.wetest.emulator.variants import VARIANTS
from labform.providers.wetest.emulator.vocabulary import BASE, Ret
from labform.providers.wetest.emulator.wire import rejected


class WeTestEmulator(UploadHandlers, CatalogueHandlers, AutomationHandlers):
    """Every documented endpoint under ``/cloudtest/v1``, wired to its handler."""

    def routes(self) -> list[BaseRoute]:
        guard = require_basic_auth(
            self.accepted, lambda: rejected(Ret.AUTH_FAILED, "authentication failed: invalid SecretId:SecretKey")
        )
        table = [
            ("POST", "/platform/upload/storage", self.upload_app),
            ("GET", "/platform/upload/info", self.get_app),
            ("DELETE", "/platform/upload/info/{fid}", self.delete_app),
            ("POST", "/scripts", self.upload_script),
            ("GET", "/scripts/{script_id}", self.get_script),
            ("DELETE", "/scripts/{script_id}", self.delete_script),
            ("GET", "/users/clouds", self.list_clouds),
            ("GET", "/clouds/{cloud_id}/devices", self.list_devices),
            ("GET", "/model/list", self.list_model_lists),
            ("POST", "/tests/automation", self.submit_test),
            ("POST", "/tests/{test_id}/cancelation", self.cancel_test),
            ("GET", "/tests/{test_id}/status", self.test_status),
            ("GET", "/tests/{test_id}/devices", self.test_devices),
            ("GET", "/tests/{test_id}/devices/{device_id}", self.test_device),
            ("GET", "/tests/{test_id}/devices/{device_id}/metrics", self.device_metrics),
            ("GET", "/tests/{test_id}/result", self.test_result),
            ("GET", "/users/projects", self.list_projects),
        ]
        return [Route(BASE + path, guard(handler), methods=[method]) for method, path, handler in table]


def build_app(options: EmulatorOptions | None = None, variant: str = "default") -> EmulatorApp:
    """The emulator reading the doc as ``VARIANTS[variant]`` does."""
    return WeTestEmulator(options or EmulatorOptions(), VARIANTS[variant]).app()


SANDBOX = EmulatorEntry(
    build_app=build_app,
    provider_settings=lambda url: {
        "endpoint": url + "/cloudtest",
        "secret_id": SANDBOX_SECRET_ID,
        "secret_key": SANDBOX_SECRET_KEY,
    },
)
