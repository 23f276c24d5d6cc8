"""Handlers of the account's catalogue: projects, clouds, their devices (busy while testing) and model lists."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.wetest.emulator.core import WeTestCore
from labform.providers.wetest.emulator.vocabulary import DEVICE_STATES
from labform.providers.wetest.emulator.wire import check, int_path, ok


class CatalogueHandlers(WeTestCore):
    """What the account can test on."""

    async def list_projects(self, request: Request) -> Response:
        return ok(projects=self.data["projects"])

    async def list_clouds(self, request: Request) -> Response:
        return ok(clouds=[{"cloud_id": c["cloud_id"], "cloud_name": c["cloud_name"]} for c in self.data["clouds"]])

    async def list_devices(self, request: Request) -> Response:
        cloud = self._cloud(int_path(request, "cloud_id"))
        busy = self._busy_devices()
        devices = [self._device_view(d, busy) for d in self.data["devices"] if d["cloud_id"] == cloud["cloud_id"]]
        return ok(devices=devices)

    def _device_view(self, device: dict[str, Any], busy: dict[int, int]) -> dict[str, Any]:
        state = "offline" if not device["online"] else "testing" if device["device_id"] in busy else "idle"
        documented = (
            "cloud_id",
            "cpu_total",
            "device_id",
            "location",
            "manufacture",
            "model",
            "model_id",
            "ram",
            "resolution",
            "version",
        )
        view = {
            **{k: device[k] for k in documented},
            "device_state": state,
            "device_state_code": DEVICE_STATES[state],
            "test_id": busy.get(device["device_id"], 0),
        }
        return self.extra(view, cpu_ghz=device["cpu_ghz"])

    async def list_model_lists(self, request: Request) -> Response:
        project = self._project(check.required(request.query_params, "project"))
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
