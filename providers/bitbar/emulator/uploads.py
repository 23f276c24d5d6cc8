"""Handlers of Project files and Test run files: uploads kept on disk, downloads streamed from it."""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from labform.providers.bitbar.emulator.errors import api_error
from labform.providers.bitbar.emulator.files import write_zip
from labform.providers.bitbar.emulator.formats import slug
from labform.providers.bitbar.emulator.seed import ID_STARTS
from labform.providers.bitbar.emulator.views import BitbarViews
from labform.providers.bitbar.emulator.vocabulary import FILE_KINDS
from labform.providers.bitbar.emulator.wire import reply
from labform.providers.emulation import Rejection, StoredUpload, inspect_app, save_upload


class FileHandlers(BitbarViews):
    """A project's application, test and data files, and the copies a run keeps."""

    def file_kind(self, request: Request) -> str:
        kind = request.path_params["kind"]
        if kind not in FILE_KINDS:
            raise api_error(404, f"No such file kind '{kind}': expected one of {', '.join(FILE_KINDS)}")
        return kind

    async def upload_file(self, request: Request) -> Response:
        self.project(request)
        kind = self.file_kind(request)
        stored = await self.receive_upload(request)
        if kind == "data" and not zipfile.is_zipfile(stored.path):
            stored.path.unlink()
            raise api_error(400, "The data file must be a ZIP package")
        with self.store.lock:
            try:
                project = self.project(request)
            except Rejection:  # deleted while the bytes were arriving
                stored.path.unlink()
                raise
            platform = "IOS" if project["type"] == "IOS" else "ANDROID"
            record = self.keep_upload(stored, kind, project["id"], platform)
            project["files"][kind] = record["id"]
            self.collect_files()
        return reply(request, self.file_view(record), 201, root="fileTest" if kind == "test" else "file")

    async def receive_upload(self, request: Request) -> StoredUpload:
        """The multipart field ``file``, saved to disk; refused when missing or empty."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise api_error(400, "Uploads must be sent as multipart/form-data")
        async with request.form() as form:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise api_error(400, "Multipart field 'file' is required")
            stored = await save_upload(part, self.uploads)
        if stored.size == 0:
            stored.path.unlink()
            raise api_error(400, "The uploaded file is empty")
        return stored

    def keep_upload(self, stored: StoredUpload, kind: str, project_id: int | None, platform: str) -> dict[str, Any]:
        """The file's record (``project_id`` None: the user's file library); call with the store locked."""
        # Read from the archive when it says; a made-up but stable name otherwise.
        declared = inspect_app(stored.path, stored.filename).package if kind != "data" else ""
        file_id = self.store.next_id("file", ID_STARTS["file"])
        record = {
            "id": file_id,
            "projectId": project_id,
            "kind": kind,
            "originalName": stored.filename or kind,
            "size": stored.size,
            "uploadedAt": self.now(),
            "path": str(stored.path),
            "platform": platform,
            "package": declared or f"com.sandbox.{slug(Path(stored.filename).stem)}",
        }
        self.data["files"][str(file_id)] = record
        return record

    def file_response(self, files: dict[str, int | None], kind: str, owner: str) -> Response:
        file_id = files[kind]
        if file_id is None:
            raise api_error(404, f"No {kind} file in {owner}")
        record = self.data["files"][str(file_id)]
        return FileResponse(record["path"], media_type="application/octet-stream", filename=record["originalName"])

    async def zip_response(self, files: dict[str, int | None]) -> Response:
        records = [(kind, self.data["files"][str(i)]) for kind, i in files.items() if i is not None]
        members = [(f"{kind}/{r['originalName']}", Path(r["path"])) for kind, r in records]
        target = self.uploads / f"download-{uuid.uuid4().hex}.zip"
        await run_in_threadpool(write_zip, target, members)
        cleanup = BackgroundTask(target.unlink, missing_ok=True)
        return FileResponse(target, media_type="application/zip", filename="files.zip", background=cleanup)

    async def download_file(self, request: Request) -> Response:
        project = self.project(request)
        return self.file_response(project["files"], self.file_kind(request), f"project {project['id']}")

    async def download_files_zip(self, request: Request) -> Response:
        return await self.zip_response(self.project(request)["files"])

    async def download_run_file(self, request: Request) -> Response:
        run = self.run(request)
        return self.file_response(run["files"], self.file_kind(request), f"run {run['id']}")

    async def download_run_files_zip(self, request: Request) -> Response:
        return await self.zip_response(self.run(request)["files"])
