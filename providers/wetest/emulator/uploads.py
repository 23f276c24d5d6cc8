"""Handlers of the app and script uploads: kept on disk, an app found by fid or by md5."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from labform.providers.emulation import app_platform, extension, inspect_app, save_upload
from labform.providers.wetest.emulator.core import WeTestCore
from labform.providers.wetest.emulator.vocabulary import APP_EXTENSIONS, FILES_HOST, Ret
from labform.providers.wetest.emulator.wire import check, ok, rejected


class UploadHandlers(WeTestCore):
    """Apps (per project) and Appium scripts."""

    # ---- apps

    async def upload_app(self, request: Request) -> Response:
        project = self._project(check.required(request.query_params, "project"))
        name = check.required(request.query_params, "name")
        if extension(name) not in APP_EXTENSIONS:
            raise rejected(Ret.BAD_PARAMETER, "name must end with .aab, .apk or .ipa")
        part = (await request.form()).get("data")
        if not isinstance(part, UploadFile):
            raise rejected(Ret.BAD_PARAMETER, "missing required form-data file: data")
        stored = await save_upload(part, self.uploads)
        # The doc lists no app-content errors, so an unreadable app is kept with empty package/version.
        facts = inspect_app(stored.path, name)
        with self.store.lock:
            counter = self.store.next_id("app")
            fid = hashlib.sha1(f"{counter}:{stored.md5}".encode(), usedforsecurity=False).hexdigest()[:24]
            app = {
                "fid": fid,
                "project": project,
                "name": name,
                "size": stored.size,
                "md5": stored.md5,
                "package": facts.package,
                "version": facts.version,
                "platform": app_platform(name),
                "path": str(stored.path),
                "url": f"{FILES_HOST}/storage/{fid}/{name}",
                "icon_url": f"{FILES_HOST}/storage/{fid}/icon.png",
                "sequence": counter,
            }
            self.data["apps"][fid] = app
        # The doc's answer holds the fid alone (Upload App, "Output Parameters").
        return ok(data=self.extra({"fid": fid}, **_app_view(app)))

    async def get_app(self, request: Request) -> Response:
        project = self._project(check.required(request.query_params, "project"))
        fid, md5 = request.query_params.get("fid"), request.query_params.get("hash")
        in_project = [a for a in self.data["apps"].values() if a["project"] == project]
        if fid:
            matches = [a for a in in_project if a["fid"] == fid]
        elif md5:
            matches = [a for a in in_project if a["md5"] == md5.lower()]
        else:
            raise rejected(Ret.BAD_PARAMETER, "missing required parameter: fid or hash")
        if not matches:
            raise rejected(Ret.NOT_FOUND, "app not found")
        # The same bytes may be uploaded twice; the variant says which upload answers a hash look-up.
        pick = max if self.variants.hash_lookup == "newest" else min
        return ok(data=_app_view(pick(matches, key=lambda a: a["sequence"])))

    async def delete_app(self, request: Request) -> Response:
        fid = request.path_params["fid"]
        with self.store.lock:
            app = self.data["apps"].pop(fid, None)
        if app is None:
            raise rejected(Ret.NOT_FOUND, f"app {fid} not found")
        Path(app["path"]).unlink(missing_ok=True)
        return ok()

    # ---- scripts

    async def upload_script(self, request: Request) -> Response:
        project = request.query_params.get("project")
        if project:
            self._project(project)
        part = (await request.form()).get("file")
        if not isinstance(part, UploadFile):
            raise rejected(Ret.BAD_PARAMETER, "missing required form-data file: file")
        stored = await save_upload(part, self.uploads)
        with self.store.lock:
            script_id = self.store.next_id("script", start=1000)
            script = {
                "script_id": script_id,
                # Scripts record their uploader (doc line 117): the only user there is.
                "user": self.accepted[0],
                "size": stored.size,
                "script_url": f"{FILES_HOST}/scripts/{script_id}/{stored.filename or 'script.zip'}",
                "project": project or "",
                "path": str(stored.path),
            }
            self.data["scripts"][str(script_id)] = script
        documented = {k: script[k] for k in ("script_id", "size", "script_url")}
        return ok(script=self.extra(documented, user=script["user"], project=script["project"]))

    def _script(self, request: Request) -> dict[str, Any]:
        return self._by_path_id(request, "scripts", "script_id", "script")

    async def get_script(self, request: Request) -> Response:
        script = self._script(request)
        return ok(script={k: script[k] for k in ("script_id", "user", "size", "script_url", "project")})

    async def delete_script(self, request: Request) -> Response:
        with self.store.lock:
            script = self._script(request)
            del self.data["scripts"][str(script["script_id"])]
        Path(script["path"]).unlink(missing_ok=True)
        return ok()


def _app_view(app: dict[str, Any]) -> dict[str, Any]:
    return {k: app[k] for k in ("fid", "size", "md5", "url", "name", "package", "version", "icon_url")}
