"""Read-only WeTest lookups plans pick ids from: projects by name, clouds, devices, model lists."""

from __future__ import annotations

from labform.providers.base import Arguments, Attrs, DataSource, arg
from labform.providers.errors import NotFoundError
from labform.providers.mapping import FieldMap
from labform.providers.wetest.client import CLOUD
from labform.providers.wetest.client import client_of as _client


class ProjectsArgs(Arguments):
    name: str | None = arg(None, description="Look one project up by its name; its id is then `id`.")


class Projects(DataSource):
    """The account's projects; one looked up by name."""

    type_name = "wetest_projects"
    Args = ProjectsArgs
    computed = ("id", "projects", "ids")

    def read(self, ctx, args):
        projects = [{"id": p["project_id"], "name": p["project_name"]} for p in _client(ctx).projects()]
        found: Attrs = {"projects": projects, "ids": [p["id"] for p in projects]}
        if args.get("name") is None:
            return found
        match = next((p for p in projects if p["name"] == args["name"]), None)
        if match is None:
            names = ", ".join(repr(p["name"]) for p in projects) or "none"
            raise NotFoundError(CLOUD, "find project", None, f"no project named {args['name']!r} (projects: {names})")
        return {**found, "id": match["id"]}


class NoArgs(Arguments):
    pass


class Clouds(DataSource):
    """The account's device farms (clouds)."""

    type_name = "wetest_clouds"
    Args = NoArgs
    computed = ("clouds", "ids")

    def read(self, ctx, args):
        clouds = [{"id": c["cloud_id"], "name": c["cloud_name"]} for c in _client(ctx).clouds()]
        return {"clouds": clouds, "ids": [c["id"] for c in clouds]}


class DevicesArgs(Arguments):
    cloud_id: int = arg(ge=1, description="Device farm whose devices are listed (data wetest_clouds).")
    model: str | None = arg(None, description="Only models whose name contains this (any case).")
    version: str | None = arg(None, description='Only this system version, e.g. "14" (also matches "14.1").')


DEVICE_FIELDS = FieldMap(
    id="device_id",
    model_id="model_id",
    model="model",
    manufacture="manufacture",
    version="version",
    state="device_state",
)


def _version_matches(version: str, wanted: str) -> bool:
    return version == wanted or version.startswith(wanted + ".")


class Devices(DataSource):
    """A cloud's devices, by model and system version."""

    type_name = "wetest_devices"
    Args = DevicesArgs
    computed = ("devices", "ids", "model_ids")

    def read(self, ctx, args):
        model, version = (args.get("model") or "").lower(), args.get("version")
        devices = [
            DEVICE_FIELDS.attrs(d)
            for d in _client(ctx).devices(args["cloud_id"])
            if model in str(d.get("model", "")).lower()
            and (version is None or _version_matches(str(d.get("version", "")), version))
        ]
        return {
            "devices": devices,
            "ids": [d["id"] for d in devices],
            "model_ids": sorted({d["model_id"] for d in devices}),
        }


class ModelListsArgs(Arguments):
    project: str = arg(min_length=1, description="Project whose model lists are listed.")


LIST_FIELDS = FieldMap(id="id", name="name", cloud_id="cloud_id", cloud_name="cloud_name", count="model_count")


class ModelLists(DataSource):
    """A project's model lists."""

    type_name = "wetest_model_lists"
    Args = ModelListsArgs
    computed = ("lists", "ids")

    def read(self, ctx, args):
        lists = [
            {
                **LIST_FIELDS.attrs(m),
                "platform": "ios" if m.get("device_type") == 1 else "android",
                "kind": "devices" if m.get("filter_type") == 2 else "models",
            }
            for m in _client(ctx).model_lists(args["project"])
        ]
        return {"lists": lists, "ids": [m["id"] for m in lists]}
