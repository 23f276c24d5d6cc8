"""Test sources (the DSL files) of a project: list, upload, download, metadata, replace,
compile to an apk, delete.

Compiling makes a new apk each time (QUEUED, COMPILING DSL, COMPILING JAVA,
READY); a new content clears the test source's ``apk_id``, since the apk no
longer matches it (the apk itself stays in the project until deleted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from labform.providers.emulation import StoredUpload, save_upload
from labform.providers.kyaraben.emulator.base import Endpoint, KyarabenBase
from labform.providers.kyaraben.emulator.packages import compiled_source
from labform.providers.kyaraben.emulator.replies import answer, no_content
from labform.providers.kyaraben.emulator.timeline import Record
from labform.providers.kyaraben.emulator.world import error, new_id

T = "/projects/{project_id}/testsources"


class TestSourceRoutes(KyarabenBase):
    def testsource_endpoints(self) -> list[Endpoint]:
        return [
            ("GET", T, self.list_testsources),
            ("POST", T, self.upload_testsource),
            ("GET", T + "/{testsource_id}", self.download_testsource),
            ("PUT", T + "/{testsource_id}", self.replace_testsource),
            ("DELETE", T + "/{testsource_id}", self.delete_testsource),
            ("GET", T + "/{testsource_id}/metadata", self.testsource_metadata),
            ("POST", T + "/{testsource_id}/apk", self.compile_testsource),
        ]

    async def _source_part(self, request: Request) -> StoredUpload:
        with self.store.lock:
            self.world.live_project(self.user(request), request.path_params["project_id"])
        part = (await request.form()).get("file")
        if not isinstance(part, UploadFile):
            raise error(400, "missing required parameter: file")
        return await save_upload(part, self.uploads)

    def _source_status(self, source: Record) -> str:
        return self.timeline.testsource_status(source, self.now())

    def _source(self, request: Request) -> Record:
        params = request.path_params
        return self.world.in_project(
            "testsources", self.user(request), params["project_id"], params["testsource_id"], self._source_status
        )

    def _source_body(self, source: Record) -> dict[str, Any]:
        apk = self.data["apks"].get(source["apk_id"])
        apk_status = self.timeline.apk_status(apk, self.now()) if apk else ""
        if apk_status in ("DELETING", "DELETED"):
            apk, apk_status = None, ""
        return {
            "apk_id": apk["apk_id"] if apk else "",
            "apk_status": apk_status,
            "apk_status_reason": apk["status_reason"] if apk_status == "ERROR" else "",
            "filename": source["filename"],
            "project_id": source["project_id"],
            "status": self._source_status(source),
            "testsource_id": source["testsource_id"],
        }

    async def list_testsources(self, request: Request) -> Response:
        with self.store.lock:
            project = self.world.project(self.user(request), request.path_params["project_id"])
            sources = self.world.of_project("testsources", project["project_id"], self._source_status)
            return answer({"testsources": [self._source_body(s) for s in sources]})

    async def upload_testsource(self, request: Request) -> Response:
        stored = await self._source_part(request)
        with self.store.lock:
            source_id = new_id()
            self.data["testsources"][source_id] = {
                "testsource_id": source_id,
                "project_id": request.path_params["project_id"],
                "filename": stored.filename,
                "path": str(stored.path),
                "created_at": self.now(),
                "updated_at": self.now(),
                "apk_id": "",
            }
        return answer({"testsource_id": source_id}, 201)

    async def download_testsource(self, request: Request) -> Response:
        with self.store.lock:
            path = Path(self._source(request)["path"])
        return PlainTextResponse(path.read_text(errors="replace"))

    async def testsource_metadata(self, request: Request) -> Response:
        with self.store.lock:
            return answer({"testsource": self._source_body(self._source(request))})

    async def replace_testsource(self, request: Request) -> Response:
        with self.store.lock:
            self._source(request)
        stored = await self._source_part(request)
        with self.store.lock:
            self._source(request).update(
                filename=stored.filename, path=str(stored.path), updated_at=self.now(), apk_id=""
            )
        return no_content()

    async def compile_testsource(self, request: Request) -> Response:
        with self.store.lock:
            source = self._source(request)
            facts = compiled_source(source["filename"], Path(source["path"]).read_text(errors="replace"))
            apk_id = new_id()
            self.data["apks"][apk_id] = {
                "apk_id": apk_id,
                "project_id": source["project_id"],
                "filename": Path(source["filename"]).stem + ".apk",
                "package": facts.package,
                "instrumentation": facts.instrumentation,
                "tests": facts.tests,
                "status_reason": facts.problem,
                "testsource_id": source["testsource_id"],
                "path": "",
                "size": Path(source["path"]).stat().st_size,
                "created_at": self.now(),
                "deleted_at": None,
            }
            source["apk_id"] = apk_id
        return answer({"apk_id": apk_id}, 202)

    async def delete_testsource(self, request: Request) -> Response:
        with self.store.lock:
            source = self._source(request)
            del self.data["testsources"][source["testsource_id"]]
        return no_content()
