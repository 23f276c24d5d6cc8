"""kyaraben apks, camera files and test sources: local files uploaded to a project.

kyaraben's listings carry no content hash, so apks and camera files are
uploaded under a name carrying the first 16 hex digits of their sha256
(``app.apk`` → ``app-3f2a9c1d4e5b6a7f.apk``): that file name is their natural
key, the same bytes already in the project are adopted, and a changed file is
a new upload (a replace). A test source is updated in place instead (the API
has PUT for it), and ``compile: true`` turns it into an apk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from labform.providers.base import Arguments, Attrs, Context, ResourceType, arg
from labform.providers.errors import AppliedWithError, NotFoundError, ProviderError
from labform.providers.kyaraben.client import CLOUD, KyarabenClient, in_project
from labform.providers.kyaraben.client import client_of as _client
from labform.providers.kyaraben.status import READY, await_status, describe, live
from labform.providers.mapping import FieldMap
from labform.providers.transfer import FilePart, local_file_digest, streamed_part

HASH_DIGITS = 16


def hashed_name(path: str, sha256: str) -> str:
    """The upload's name: the file's stem, its hash prefix, its suffix."""
    local = Path(path)
    return f"{local.stem}-{sha256[:HASH_DIGITS]}{local.suffix}"


def _renamed(part: FilePart, name: str) -> FilePart:
    return (name, part[1], part[2])


class ContentUploadArgs(Arguments):
    project: str = arg(force_new=True, min_length=1, description="Project id, e.g. ${kyaraben_project.NAME.id}.")
    path: str = arg(
        local_file=True, description="Local file, relative to the working directory; a changed file is uploaded anew."
    )
    on_destroy: Literal["delete"] | None = arg(
        None,
        local=True,
        description="'delete' also deletes a file labform adopted rather than uploaded (by default it is only forgotten).",
    )


class ContentUpload(ResourceType):
    """A file found by its hashed name: upload, wait until READY, delete."""

    Args = ContentUploadArgs
    natural_key = ("project", "filename")
    content_addressed = True
    what: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    fields: ClassVar[FieldMap]

    # --- the calls that differ per kind ----------------------------------------
    def remote_items(self, client: KyarabenClient, project: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def upload(self, client: KyarabenClient, project: str, part: FilePart) -> str:
        raise NotImplementedError

    def remove(self, client: KyarabenClient, project: str, id: str) -> None:
        raise NotImplementedError

    def fetch(self, client: KyarabenClient, project: str, id: str) -> Callable[[], dict[str, Any]]:
        """How to read one of them while waiting (a listing where there is no single GET)."""

        def from_listing() -> dict[str, Any]:
            found = next(
                (item for item in self.remote_items(client, project) if item[self.fields.to_cloud["id"]] == id), None
            )
            if found is None:
                raise NotFoundError(CLOUD, f"read {self.what}", 404, f"project {project} has no {self.what} {id}")
            return found

        return from_listing

    # --- the resource ------------------------------------------------------------
    def plan_attributes(self, desired, address=""):
        digest = local_file_digest(desired.get("path"), "sha256", self.extensions)
        return {} if digest is None else {"sha256": digest, "filename": hashed_name(desired["path"], digest)}

    def _attrs(self, remote: dict[str, Any], project: str) -> Attrs | None:
        found = live(self.fields.attrs(remote))
        return None if found is None else {**found, "project": project}

    def read(self, ctx, id, prior):
        return self._attrs(self.fetch(_client(ctx), prior["project"], id)(), prior["project"])

    def list_scope(self, attrs):
        return (self.type_name, attrs["project"])

    def list(self, ctx, scope):
        project = scope[1]
        return filter(None, (self._attrs(item, project) for item in self.remote_items(_client(ctx), project)))

    def find_existing(self, ctx, desired):
        """The project's upload with this hashed name: the same bytes, already there."""
        try:
            found = [
                item
                for item in self.listed(ctx, (self.type_name, desired["project"]))
                if item.get("filename") == desired["filename"]
            ]
        except NotFoundError:
            return None
        usable = [item for item in found if item.get("status") != "ERROR"]
        return {**usable[0], "sha256": desired["sha256"]} if usable else None

    def create(self, ctx, desired):
        client, project = _client(ctx), desired["project"]
        with streamed_part(Path(desired["path"]), ctx.progress) as part:
            id = self.upload(client, project, _renamed(part, desired["filename"]))
        fetch = self.fetch(client, project, id)
        current = self._attrs(fetch(), project)
        if current is None:  # being deleted already: nothing of ours to record or wait for
            raise ProviderError(CLOUD, f"upload {self.what}", None, f"{id} was being deleted right after its upload")
        uploaded = {"sha256": desired["sha256"], **current}
        ctx.record(uploaded)
        return self._ready(ctx, uploaded, desired)

    def _ready(self, ctx: Context, uploaded: Attrs, desired: Attrs) -> Attrs:
        """Wait until the cloud has taken the file; one it could not take is tainted, so the
        next apply deletes it and uploads again."""
        project, id = uploaded["project"], uploaded["id"]
        try:
            final = await_status(ctx, self.fetch(_client(ctx), project, id), f"{self.what} {desired['filename']}")
        except ProviderError as exc:
            raise AppliedWithError(CLOUD, f"upload {self.what}", exc.message, uploaded, tainted=True) from None
        if final.get("status") != READY:
            raise AppliedWithError(
                CLOUD,
                f"upload {self.what}",
                f"{desired['filename']} is {describe(final)}",
                {"sha256": desired["sha256"], **(self._attrs(final, project) or uploaded)},  # gone: as recorded
                tainted=True,
            )
        return {"sha256": desired["sha256"], **(self._attrs(final, project) or uploaded)}

    def pending(self, desired, actual):
        """One found by its name (a create whose answer was lost) may still be uploading."""
        if actual.get("status") != READY:
            return f"the {self.what} is {actual.get('status')}: apply waits for it to be READY"
        return None

    def update(self, ctx, id, desired, actual):
        """Only the local path moved (same content): nothing to upload; one not READY yet is awaited."""
        attrs = {**actual, **desired, "id": id}
        return attrs if actual.get("status") == READY else {**attrs, **self._ready(ctx, attrs, desired)}

    def import_(self, ctx, id):
        """Nothing to import: the plan finds the project's upload of the same bytes by its name and adopts it."""
        raise ProviderError(
            CLOUD,
            f"import {self.type_name}",
            None,
            "run 'labform plan': an upload of the same file is adopted by its name (the plan says 'adopt')",
        )

    def delete(self, ctx, id, actual):
        self.remove(_client(ctx), actual["project"], id)


# --- kyaraben_apk ----------------------------------------------------------------
class Apk(ContentUpload):
    """An apk in a project, uploaded under its name and content hash; one already there is adopted."""

    type_name = "kyaraben_apk"
    what = "apk"
    extensions = ("apk",)
    fields = FieldMap(id="apk_id", filename="filename", package="package", status="status")
    computed = ("id", "sha256", "filename", "package", "status")

    def remote_items(self, client, project):
        return client.apks(project)

    def fetch(self, client, project, id):
        return lambda: client.apk(project, id)

    def upload(self, client, project, part):
        return client.upload_apk(project, part)

    def remove(self, client, project, id):
        client.delete_apk(project, id)


# --- kyaraben_camera_file ----------------------------------------------------------
class CameraFile(ContentUpload):
    """An image or movie the VMs' camera shows (the cloud converts it if needed)."""

    type_name = "kyaraben_camera_file"
    what = "camera file"
    fields = FieldMap(id="camera_id", filename="filename", status="status")
    computed = ("id", "sha256", "filename", "status")

    def remote_items(self, client, project):
        return client.camera_files(project)

    def upload(self, client, project, part):
        return client.upload_camera_file(project, part)

    def remove(self, client, project, id):
        client.delete_camera_file(project, id)


# --- kyaraben_testsource -------------------------------------------------------------
class TestSourceArgs(Arguments):
    project: str = arg(force_new=True, min_length=1, description="Project id, e.g. ${kyaraben_project.NAME.id}.")
    path: str = arg(local_file=True, description="The DSL file; a change of content or name is uploaded in place.")
    compile: bool = arg(False, description="Compile it to an apk (its id is then `apk_id`).")
    # Set from ``path`` at plan time. They are arguments, not plan-time attributes,
    # because a change updates the test source in place rather than replacing it.
    sha256: str | None = arg(None, local=True, description="Filled in by labform from path; do not set.")
    filename: str | None = arg(None, description="Filled in by labform from path; do not set.")


SOURCE_FIELDS = FieldMap(
    id="testsource_id", filename="filename", status="status", apk_id="apk_id", apk_status="apk_status"
)


def _source_attrs(remote: dict[str, Any], project: str) -> Attrs:
    """``compile`` reads as true once the cloud holds an apk compiled from it."""
    found = SOURCE_FIELDS.attrs(remote)
    return {**found, "project": project, "compile": bool(found.get("apk_id")) and found.get("apk_status") == READY}


class TestSource(ResourceType):
    """A DSL test source, compiled to a test apk when asked."""

    type_name = "kyaraben_testsource"
    Args = TestSourceArgs
    computed = ("id", "status", "apk_id", "apk_status")
    natural_key = ("project", "filename")

    def check(self, desired):
        return [
            (name, f"{name} is computed from path; remove it from the plan")
            for name in ("sha256", "filename")
            if desired.get(name) is not None
        ]

    def plan_attributes(self, desired, address=""):
        digest = local_file_digest(desired.get("path"), "sha256")
        return {} if digest is None else {"sha256": digest, "filename": Path(desired["path"]).name}

    def read(self, ctx, id, prior):
        return _source_attrs(_client(ctx).testsource(prior["project"], id), prior["project"])

    def import_(self, ctx, id):
        """By PROJECT_ID/TESTSOURCE_ID; the first apply then puts the plan's content in place (no hash is known)."""
        project, source = in_project(self.type_name, id)
        return self.read(ctx, source, {"project": project})

    def list_scope(self, attrs):
        return ("testsources", attrs["project"])

    def list(self, ctx, scope):
        return (_source_attrs(item, scope[1]) for item in _client(ctx).testsources(scope[1]))

    def find_existing(self, ctx, desired):
        try:
            return next(
                (
                    s
                    for s in self.listed(ctx, ("testsources", desired["project"]))
                    if s.get("filename") == desired["filename"]
                ),
                None,
            )
        except NotFoundError:
            return None

    def create(self, ctx, desired):
        client, project = _client(ctx), desired["project"]
        with streamed_part(Path(desired["path"]), ctx.progress) as part:
            id = client.upload_testsource(project, part)
        attrs = {
            "id": id,
            "project": project,
            "filename": desired["filename"],
            "sha256": desired["sha256"],
            "compile": False,
        }
        ctx.record(attrs)
        self._settle(ctx, attrs, desired)
        return attrs

    def update(self, ctx, id, desired, actual):
        client, project = _client(ctx), desired["project"]
        attrs = {**actual, "id": id}
        if (desired["sha256"], desired["filename"]) != (actual.get("sha256"), actual.get("filename")):
            with streamed_part(Path(desired["path"]), ctx.progress) as part:
                client.replace_testsource(project, id, part)
            # A new content needs a new compilation, and the old apk is stale.
            attrs.update(sha256=desired["sha256"], filename=desired["filename"], compile=False)
        self._settle(ctx, attrs, desired)
        return attrs

    def _settle(self, ctx: Context, attrs: Attrs, desired: Attrs) -> None:
        """Wait for the upload; then compile (the apk id recorded at once), or drop a compiled
        apk no longer wanted."""
        client, project, id = _client(ctx), attrs["project"], attrs["id"]
        uploaded = await_status(ctx, lambda: client.testsource(project, id), f"test source {attrs['filename']}")
        attrs["status"] = uploaded.get("status")
        if uploaded.get("status") != READY:
            raise ProviderError(CLOUD, "upload test source", None, f"{attrs['filename']} is {describe(uploaded)}")
        stale = attrs.get("apk_id") or ""
        if desired.get("compile") is True and not attrs.get("compile"):
            attrs.update(apk_id=self._compile(client, project, id, stale), apk_status="QUEUED")
            ctx.record(attrs)
            compiled = await_status(
                ctx,
                lambda: client.testsource(project, id),
                f"compilation of {attrs['filename']}",
                key="apk_status",
                reason_key="apk_status_reason",
            )
            attrs.update(apk_id=compiled.get("apk_id") or attrs["apk_id"], apk_status=compiled.get("apk_status"))
            if compiled.get("apk_status") != READY:
                raise ProviderError(
                    CLOUD,
                    "compile test source",
                    None,
                    f"{attrs['filename']}: {describe(compiled, 'apk_status', 'apk_status_reason')}",
                )
            attrs["compile"] = True
        elif desired.get("compile") is False and attrs.get("compile"):
            attrs.update(apk_id="", apk_status="", compile=False)
        if stale and stale != attrs.get("apk_id"):
            _delete_quietly(client, project, stale)

    @staticmethod
    def _compile(client: KyarabenClient, project: str, id: str, stale: str) -> str:
        """Start a compilation; one whose answer was lost shows as a new apk id on the test
        source, so it is taken from there rather than started twice."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return client.compile_testsource(project, id)
            except ProviderError as error:
                if not error.ambiguous or attempt == COMPILE_ATTEMPTS:
                    raise
                started = client.testsource(project, id).get("apk_id")
                if started and started != stale:
                    return started

    def delete(self, ctx, id, actual):
        client = _client(ctx)
        client.delete_testsource(actual["project"], id)
        if actual.get("apk_id"):
            _delete_quietly(client, actual["project"], actual["apk_id"])


# A compilation whose answer was lost, and that did not start, is asked for again at most this often.
COMPILE_ATTEMPTS = 3


def _delete_quietly(client: KyarabenClient, project: str, apk_id: str) -> None:
    """A compiled apk labform no longer needs; the cloud may have dropped it already."""
    with contextlib.suppress(NotFoundError):
        client.delete_apk(project, apk_id)
