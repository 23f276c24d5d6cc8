"""Read-only kyaraben lookups: the Android images, the user's quota, projects by name."""

from __future__ import annotations

from labform.providers.base import Arguments, Attrs, DataSource, arg
from labform.providers.errors import NotFoundError
from labform.providers.kyaraben.client import CLOUD
from labform.providers.kyaraben.client import client_of as _client
from labform.providers.kyaraben.status import is_gone


class ImagesArgs(Arguments):
    android_version: int | None = arg(None, ge=1, description="Only images of this Android major version.")


class Images(DataSource):
    """The Android images a VM can run."""

    type_name = "kyaraben_images"
    Args = ImagesArgs
    computed = ("images", "names")

    def read(self, ctx, args):
        wanted = args.get("android_version")
        images = [
            {"image": i["image"], "android_version": i.get("android_version")}
            for i in _client(ctx).images()
            if wanted is None or i.get("android_version") == wanted
        ]
        return {"images": images, "names": [i["image"] for i in images]}


class NoArgs(Arguments):
    pass


class Quota(DataSource):
    """The user's VM quota: live and asynchronous VMs, current and maximum."""

    type_name = "kyaraben_quota"
    Args = NoArgs
    computed = ("vm_live_current", "vm_live_max", "vm_async_current", "vm_async_max")

    def read(self, ctx, args):
        return {key: int(value) for key, value in _client(ctx).quota().items() if key in self.computed}


class ProjectsArgs(Arguments):
    project_name: str | None = arg(
        None, description="Look one project up by name; its id is then `id` (the name must be unique)."
    )


class Projects(DataSource):
    """The user's projects; one looked up by name."""

    type_name = "kyaraben_projects"
    Args = ProjectsArgs
    computed = ("id", "projects", "ids")

    def read(self, ctx, args):
        projects = [
            {"id": p["project_id"], "project_name": p["project_name"], "status": p.get("status")}
            for p in _client(ctx).projects()
            if not is_gone(p)
        ]
        found: Attrs = {"projects": projects, "ids": [p["id"] for p in projects]}
        name = args.get("project_name")
        if name is None:
            return found
        matches = [p for p in projects if p["project_name"] == name]
        if len(matches) != 1:
            names = ", ".join(sorted(repr(p["project_name"]) for p in projects)) or "none"
            problem = "no project" if not matches else f"{len(matches)} projects"
            raise NotFoundError(CLOUD, "find project", None, f"{problem} named {name!r} (projects: {names})")
        return {**found, "id": matches[0]["id"]}
