"""Apks and camera files of a project: list, upload (multipart ``file``), read, delete.

Uploads are processed asynchronously (QUEUED, UPLOADING, then READY); an apk
whose manifest cannot be read ends in ERROR with the reason (the doc reads
``package`` from AndroidManifest.xml).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from labform.providers.emulation import StoredUpload, save_upload
from labform.providers.kyaraben.emulator.base import Endpoint, KyarabenBase
from labform.providers.kyaraben.emulator.packages import uploaded_apk
from labform.providers.kyaraben.emulator.replies import answer, no_content
from labform.providers.kyaraben.emulator.timeline import Record
from labform.providers.kyaraben.emulator.world import error, new_id

P = "/projects/{project_id}"


class FileRoutes(KyarabenBase):
    def file_endpoints(self) -> list[Endpoint]:
        return [
            ("GET", P + "/apk", self.list_apks),
            ("POST", P + "/apk", self.upload_apk),
            ("GET", P + "/apk/{apk_id}", self.read_apk),
            ("DELETE", P + "/apk/{apk_id}", self.delete_apk),
            ("GET", P + "/camera", self.list_camera_files),
            ("POST", P + "/camera", self.upload_camera_file),
            ("DELETE", P + "/camera/{camera_file_id}", self.delete_camera_file),
        ]

    async def _stored_part(self, request: Request) -> StoredUpload:
        """The uploaded ``file`` part, on disk; the project is checked first (404 before reading)."""
        with self.store.lock:
            self.world.live_project(self.user(request), request.path_params["project_id"])
        form = await request.form()
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise error(400, "missing required parameter: file")
        return await save_upload(part, self.uploads)

    # --- apks ---------------------------------------------------------------------
    def _apk_status(self, apk: Record) -> str:
        return self.timeline.apk_status(apk, self.now())

    def _apk_body(self, apk: Record) -> dict[str, Any]:
        return {
            "apk_id": apk["apk_id"],
            "filename": apk["filename"],
            "package": apk["package"],
            "project_id": apk["project_id"],
            "status": self._apk_status(apk),
        }

    async def list_apks(self, request: Request) -> Response:
        with self.store.lock:
            project = self.world.project(self.user(request), request.path_params["project_id"])
            apks = self.world.of_project("apks", project["project_id"], self._apk_status)
            return answer({"apks": [{**self._apk_body(a), "testsource_id": a["testsource_id"]} for a in apks]})

    async def upload_apk(self, request: Request) -> Response:
        stored = await self._stored_part(request)
        facts = uploaded_apk(stored.path, stored.filename)
        with self.store.lock:
            apk_id = new_id()
            self.data["apks"][apk_id] = {
                "apk_id": apk_id,
                "project_id": request.path_params["project_id"],
                "filename": stored.filename,
                "package": facts.package,
                "instrumentation": facts.instrumentation,
                "tests": facts.tests,
                "status_reason": facts.problem,
                "testsource_id": "",
                "path": str(stored.path),
                "size": stored.size,
                "created_at": self.now(),
                "deleted_at": None,
            }
        return answer({"apk_id": apk_id}, 201)

    def _apk(self, request: Request) -> Record:
        params = request.path_params
        return self.world.in_project(
            "apks", self.user(request), params["project_id"], params["apk_id"], self._apk_status
        )

    async def read_apk(self, request: Request) -> Response:
        with self.store.lock:
            apk = self._apk(request)
            reason = apk["status_reason"] if self._apk_status(apk) == "ERROR" else ""
            return answer({"apk": {**self._apk_body(apk), "status_reason": reason}})

    async def delete_apk(self, request: Request) -> Response:
        with self.store.lock:
            apk = self._apk(request)
            if apk["deleted_at"] is None:
                apk["deleted_at"] = self.now()
        return no_content()

    # --- camera files -------------------------------------------------------------------
    def _camera_status(self, camera: Record) -> str:
        return self.timeline.camera_status(camera, self.now())

    async def list_camera_files(self, request: Request) -> Response:
        with self.store.lock:
            project = self.world.project(self.user(request), request.path_params["project_id"])
            files = self.world.of_project("camera_files", project["project_id"], self._camera_status)
            listed = [
                {
                    "camera_id": c["camera_id"],
                    "filename": c["filename"],
                    "project_id": c["project_id"],
                    "status": self._camera_status(c),
                }
                for c in files
            ]
        return answer({"camera_files": listed})

    async def upload_camera_file(self, request: Request) -> Response:
        stored = await self._stored_part(request)
        with self.store.lock:
            camera_id = new_id()
            self.data["camera_files"][camera_id] = {
                "camera_id": camera_id,
                "project_id": request.path_params["project_id"],
                "filename": stored.filename,
                "path": str(stored.path),
                "created_at": self.now(),
                "deleted_at": None,
            }
        return answer({"camera_file_id": camera_id}, 201)

    async def delete_camera_file(self, request: Request) -> Response:
        params = request.path_params
        with self.store.lock:
            camera = self.world.in_project(
                "camera_files", self.user(request), params["project_id"], params["camera_file_id"], self._camera_status
            )
            if camera["deleted_at"] is None:
                camera["deleted_at"] = self.now()
        return no_content()
