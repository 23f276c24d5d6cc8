"""bitbar_file: an app, test or data file in a project, uploaded only when its content changes.

The file is hashed (sha256, in chunks) at plan time; state keeps the hash, so
an unchanged file costs no upload and a changed one shows as a replace with
the old and new hash. Bitbar has no endpoint describing or deleting an
uploaded file: refresh checks the project still has a file of that kind, and
destroy only forgets it (the next upload of the kind supersedes it anyway).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from labform.providers.base import Arguments, ResourceType, arg
from labform.providers.bitbar.client import client_of as _client
from labform.providers.bitbar.client import project_path as _project_path
from labform.providers.errors import NotFoundError, ProviderError
from labform.providers.mapping import FieldMap
from labform.providers.transfer import local_file_digest, streamed_part


class FileArgs(Arguments):
    project: int = arg(force_new=True, description="Project id the file belongs to, e.g. ${bitbar_project.NAME.id}.")
    kind: Literal["application", "test", "data"] = arg(
        force_new=True, description="Which of the project's files this is."
    )
    path: str = arg(
        local_file=True, description="Local file, relative to the working directory (in a module, to its folder)."
    )


FILE_FIELDS = FieldMap(
    id="id",
    original_name="originalName",
    readable_size="readableSize",
    upload_time="uploadTime",
    package_name="packageName",
)


# An upload that failed ambiguously is sent again at most this often (it replaces, so it is safe).
UPLOAD_ATTEMPTS = 3


class ProjectFile(ResourceType):
    """An application, test or data file of a project; uploaded again only when its sha256 changes."""

    type_name = "bitbar_file"
    Args = FileArgs
    create_replaces = True  # a project holds one file of each kind: an upload replaces it
    computed = ("id", "sha256", "size", "original_name", "readable_size", "upload_time", "package_name")

    def plan_attributes(self, desired, address=""):
        digest = local_file_digest(desired["path"], "sha256")
        return {} if digest is None else {"sha256": digest}

    def _kind_path(self, attrs) -> str:
        return f"{_project_path(attrs['project'])}/files/{attrs['kind']}"

    def read(self, ctx, id, prior):
        try:
            with _client(ctx).stream(self._kind_path(prior), "check project file"):
                pass  # headers are enough: the body is not downloaded
        except NotFoundError:
            return None
        return dict(prior)

    def create(self, ctx, desired):
        """A project holds one file of each kind and an upload replaces it, so an upload whose
        answer was lost is simply sent again (from the start of the file): never a twin."""
        path = Path(desired["path"])
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                with streamed_part(path, ctx.progress) as part:
                    uploaded = _client(ctx).upload(self._kind_path(desired), f"upload {desired['kind']} file", part)
                return {**FILE_FIELDS.attrs(uploaded), "size": path.stat().st_size, "sha256": desired["sha256"]}
            except ProviderError as exc:
                if not exc.ambiguous or attempt == UPLOAD_ATTEMPTS:
                    raise
                ctx.progress(
                    f"{path.name}: {exc.message}; uploading again (the project keeps one {desired['kind']} file)"
                )

    def update(self, ctx, id, desired, actual):
        """Only the local path moved (same content): nothing to upload."""
        return {**actual, **desired, "id": id}

    def delete(self, ctx, id, actual):
        """Bitbar cannot delete an uploaded file; labform stops tracking it."""
