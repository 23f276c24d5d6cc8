"""Handlers of Device groups, and the device catalogue (the one call that needs no authorization)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.errors import api_error, check
from labform.providers.bitbar.emulator.seed import FREE_DEVICES_GROUP_ID, ID_STARTS, USER_ID
from labform.providers.bitbar.emulator.views import BitbarViews
from labform.providers.bitbar.emulator.vocabulary import OS_TYPES
from labform.providers.bitbar.emulator.wire import empty, reply
from labform.providers.emulation import virtual_datetime


class GroupHandlers(BitbarViews):
    """The user's device groups and their members; public groups are read-only."""

    # ---- Device groups

    async def create_group(self, request: Request) -> Response:
        values = await self.params(request)
        display_name = check.required(values, "name")
        os_type = check.one_of("osType", check.required(values, "osType"), OS_TYPES)
        with self.store.lock:
            group_id = self.store.next_id("deviceGroup", ID_STARTS["deviceGroup"])
            created = virtual_datetime(self.now())
            group = {
                "id": group_id,
                # The doc's internal name: creation time and a random suffix.
                "name": f"{created:%Y-%m-%d_%H:%M:%S}.{created.microsecond // 1000:03d}_{uuid.uuid4().hex[:10]}",
                "displayName": display_name,
                "userId": USER_ID,
                "osType": os_type,
                "public": False,
                "deviceIds": [],
            }
            self.data["deviceGroups"][str(group_id)] = group
        return reply(request, self.group_view(group), 201, root="deviceGroup")

    def groups_where(self, public: bool, os_type: str | None = None) -> list[dict[str, Any]]:
        groups = self.data["deviceGroups"].values()
        return [self.group_view(g) for g in groups if g["public"] == public and os_type in (None, g["osType"])]

    async def list_groups(self, request: Request) -> Response:
        return self.listing(request, self.groups_where(public=False), "deviceGroup", "displayName")

    async def list_project_groups(self, request: Request) -> Response:
        # "For project": the groups whose OS the project can run on.
        os_type = "IOS" if self.project(request)["type"] == "IOS" else "ANDROID"
        return self.listing(request, self.groups_where(public=False, os_type=os_type), "deviceGroup", "displayName")

    async def list_project_public_groups(self, request: Request) -> Response:
        os_type = "IOS" if self.project(request)["type"] == "IOS" else "ANDROID"
        return self.listing(request, self.groups_where(public=True, os_type=os_type), "deviceGroup", "displayName")

    async def get_group(self, request: Request) -> Response:
        return reply(request, self.group_view(self.group(request)), root="deviceGroup")

    async def update_group(self, request: Request) -> Response:
        # The table marks name and osType required, but its example sends the name alone: both optional
        # unless this variant reads the table.
        values = await self.params(request)
        if self.variants.required == "as_tables":
            check.one_of("osType", check.required(values, "osType"), OS_TYPES)
            check.required(values, "name")
        with self.store.lock:
            group = self.group(request, writable=True)
            changes: dict[str, Any] = {}
            if "name" in values:
                changes["displayName"] = check.required(values, "name")
            if "osType" in values:
                changes["osType"] = check.one_of("osType", values["osType"], OS_TYPES)
                if any(self.data["devices"][str(i)]["osType"] != changes["osType"] for i in group["deviceIds"]):
                    raise api_error(400, f"Device group {group['id']} holds devices that are not {changes['osType']}")
            group.update(changes)
        return reply(request, self.group_view(group), 202, root="deviceGroup")

    async def delete_group(self, request: Request) -> Response:
        with self.store.lock:
            group = self.group(request, writable=True)
            for config in self.data["configs"].values():
                if config["usedDeviceGroupId"] == group["id"]:
                    config["usedDeviceGroupId"] = FREE_DEVICES_GROUP_ID
            del self.data["deviceGroups"][str(group["id"])]
        return empty(204)

    async def add_group_device(self, request: Request) -> Response:
        values = await self.params(request)
        device_id = check.parse_int("id", check.required(values, "id"))
        with self.store.lock:
            group = self.group(request, writable=True)
            device = self.data["devices"].get(str(device_id))
            if device is None:
                raise api_error(404, f"Device with id {device_id} not found")
            if device["osType"] != group["osType"]:
                raise api_error(
                    400, f"Device {device_id} is {device['osType']}; device group {group['id']} is {group['osType']}"
                )
            if device_id in group["deviceIds"]:
                raise api_error(409, f"Device {device_id} is already in device group {group['id']}")
            group["deviceIds"].append(device_id)
        return empty(201)

    async def list_group_devices(self, request: Request) -> Response:
        devices = [self.device_view(self.data["devices"][str(i)]) for i in sorted(self.group(request)["deviceIds"])]
        return self.listing(request, devices, "device", "displayName")

    async def remove_group_device(self, request: Request) -> Response:
        device_id = request.path_params["deviceId"]
        with self.store.lock:
            group = self.group(request, writable=True)
            if device_id not in group["deviceIds"]:
                raise api_error(404, f"Device {device_id} is not in device group {group['id']}")
            group["deviceIds"].remove(device_id)
        return empty(204)

    # ---- Calls available without Authorization

    async def list_devices(self, request: Request) -> Response:
        devices = [self.device_view(device) for device in self.data["devices"].values()]
        return self.listing(request, devices, "device", "displayName")
