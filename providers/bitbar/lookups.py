"""Read-only Bitbar lookups: devices, device groups for a project, runs of a project."""

from __future__ import annotations

from typing import Literal

from labform.providers.base import Arguments, DataSource, arg
from labform.providers.bitbar.client import client_of as _client
from labform.providers.bitbar.client import project_path as _project_path
from labform.providers.bitbar.resources import GROUP_FIELDS
from labform.providers.bitbar.runs import _run_attrs


class DevicesArgs(Arguments):
    search: str | None = arg(None, description="Filter by name, as the API's search does.")
    os_type: Literal["ANDROID", "IOS"] | None = arg(None, description="Only devices of this platform.")


class Devices(DataSource):
    """The cloud's devices, by name and platform."""

    type_name = "bitbar_devices"
    Args = DevicesArgs
    computed = ("ids", "devices")

    def read(self, ctx, args):
        params = {"search": args["search"]} if args.get("search") else {}
        devices = [
            {
                "id": d["id"],
                "name": d.get("displayName"),
                "os_type": d.get("osType"),
                "credits_price": d.get("creditsPrice"),
            }
            for d in _client(ctx).list("/api/v2/devices", "list devices", **params)
            if not args.get("os_type") or d.get("osType") == args["os_type"]
        ]
        return {"devices": devices, "ids": [d["id"] for d in devices]}


class ProjectDeviceGroupsArgs(Arguments):
    project: int = arg(description="Groups usable by this project: the user's and the public ones.")


class DeviceGroups(DataSource):
    """Device groups a project can use: the user's and the public ones."""

    type_name = "bitbar_device_groups"
    Args = ProjectDeviceGroupsArgs
    computed = ("groups", "ids")

    def read(self, ctx, args):
        base = _project_path(args["project"])
        groups = [
            {**GROUP_FIELDS.attrs(group), "public": public}
            for public, path in ((False, f"{base}/device-groups"), (True, f"{base}/public-device-groups"))
            for group in _client(ctx).list(path, "list device groups")
        ]
        return {"groups": groups, "ids": [g["id"] for g in groups]}


class ProjectRunsArgs(Arguments):
    project: int = arg(description="Project id whose runs are listed.")
    state: Literal["WAITING", "RUNNING", "FINISHED"] | None = arg(None, description="Only runs in this state.")


class Runs(DataSource):
    """A project's test runs."""

    type_name = "bitbar_runs"
    Args = ProjectRunsArgs
    computed = ("runs", "ids")

    def read(self, ctx, args):
        runs = [
            _run_attrs(run)
            for run in _client(ctx).list(f"{_project_path(args['project'])}/runs", "list runs")
            if not args.get("state") or run.get("state") == args["state"]
        ]
        return {"runs": runs, "ids": [r["id"] for r in runs]}
