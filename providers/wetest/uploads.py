"""WeTest apps and scripts: local files hashed (md5) at plan time, uploaded only when new.

Apps are content-addressed: ``find_existing`` finds the project's app with
the same md5, and the engine decides to adopt it (the plan says so) rather than
upload the same bytes again. A changed file shows as a replace with the old
and new hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from labform.providers.base import Arguments, Attrs, ResourceType, arg
from labform.providers.errors import NotFoundError, ProviderError
from labform.providers.mapping import FieldMap
from labform.providers.transfer import local_file_digest, streamed_part
from labform.providers.wetest.client import CLOUD
from labform.providers.wetest.client import client_of as _client

APP_EXTENSIONS = ("apk", "aab", "ipa")


# --- wetest_app -------------------------------------------------------------
class AppArgs(Arguments):
    project: str = arg(
        force_new=True, min_length=1, description="Project id (data wetest_projects looks one up by name)."
    )
    path: str = arg(
        local_file=True,
        description="The .apk, .aab or .ipa file, relative to the working directory (in a module, to its folder).",
    )
    on_destroy: Literal["delete"] | None = arg(
        None,
        local=True,
        description="'delete' also deletes an app labform adopted rather than uploaded (by default it is only forgotten).",
    )


APP_FIELDS = FieldMap(fid="fid", md5="md5", size="size", name="name", package="package", version="version", url="url")


def _app_attrs(app: dict[str, Any], project: str) -> Attrs:
    return {**APP_FIELDS.attrs(app), "id": app["fid"], "project": project}


class App(ResourceType):
    """An app in a project's storage, found by md5 first: never uploaded twice."""

    type_name = "wetest_app"
    Args = AppArgs
    computed = ("id", "fid", "md5", "size", "name", "package", "version", "url")
    natural_key = ("project", "md5")
    content_addressed = True

    def plan_attributes(self, desired, address=""):
        md5 = local_file_digest(desired.get("path"), "md5", APP_EXTENSIONS)
        return {} if md5 is None else {"md5": md5}

    def read(self, ctx, id, prior):
        return _app_attrs(_client(ctx).app(prior["project"], fid=id), prior["project"])

    def import_(self, ctx, id):
        """An app is read within its project, so the import id is PROJECT/FID."""
        project, _, fid = id.rpartition("/")
        if not project:
            raise ProviderError(CLOUD, "import wetest_app", None, f"give the id as PROJECT/FID (e.g. pj-demo/{id})")
        return self.read(ctx, fid, {"project": project})

    def find_existing(self, ctx, desired):
        """The project's app with the same md5: the same bytes, already uploaded. WeTest lists no
        apps, so the look-up by hash is the listing of that hash, read once per command."""
        project, md5 = desired["project"], desired["md5"]

        def read() -> list[Attrs]:
            try:
                return [_app_attrs(_client(ctx).app(project, md5=md5), project)]
            except NotFoundError:
                return []

        return next(iter(ctx.listings.get((self.type_name, project, md5), read)), None)

    def create(self, ctx, desired):
        project, path = desired["project"], Path(desired["path"])
        with streamed_part(path, ctx.progress) as part:
            uploaded = _client(ctx).upload_app(project, path.name, part)
        return _app_attrs(
            _client(ctx).app(project, fid=uploaded["fid"]), project
        )  # the doc's upload answer is the fid alone

    def update(self, ctx, id, desired, actual):
        """Only the local path moved (same md5): nothing to upload."""
        return {**actual, **desired, "id": id}

    def delete(self, ctx, id, actual):
        _client(ctx).delete_app(actual["project"], id)


# --- wetest_script ----------------------------------------------------------
class ScriptArgs(Arguments):
    project: str | None = arg(None, force_new=True, description="Project to share the script in (optional).")
    path: str = arg(
        local_file=True,
        description="The script file (e.g. a zip), relative to the working directory (in a module, to its folder).",
    )


SCRIPT_FIELDS = FieldMap(id="script_id", size="size", url="script_url", user="user")


class Script(ResourceType):
    """A test script (e.g. Appium); a changed file replaces it."""

    type_name = "wetest_script"
    Args = ScriptArgs
    computed = ("id", "md5", "size", "url", "user")
    # No natural key: the doc reads a script by id only ("GET /v1/scripts/<script_id>") and has no
    # listing, name or hash of scripts, so an upload whose answer is lost cannot be looked up.
    lookup_proves_absence = False

    def plan_attributes(self, desired, address=""):
        md5 = local_file_digest(desired.get("path"), "md5")
        return {} if md5 is None else {"md5": md5}

    def read(self, ctx, id, prior):
        return SCRIPT_FIELDS.attrs(_client(ctx).script(id, prior.get("project")))

    def create(self, ctx, desired):
        with streamed_part(Path(desired["path"]), ctx.progress) as part:
            uploaded = _client(ctx).upload_script(desired.get("project"), part)
        return SCRIPT_FIELDS.attrs(_client(ctx).script(str(uploaded["script_id"]), desired.get("project")))

    def update(self, ctx, id, desired, actual):
        """Only the local path moved (same md5): nothing to upload."""
        return {**actual, **desired, "id": id}

    def delete(self, ctx, id, actual):
        _client(ctx).delete_script(id, actual.get("project"))
