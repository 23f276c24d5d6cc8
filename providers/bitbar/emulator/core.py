"""``BitbarCore``: the emulator's records, lookups and bookkeeping, on the kit's ``Emulator``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.errors import api_error, error_body
from labform.providers.bitbar.emulator.listing import list_response
from labform.providers.bitbar.emulator.seed import (
    DEFAULT_TOKEN_TTL,
    SANDBOX_API_KEY,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    initial_data,
)
from labform.providers.bitbar.emulator.variants import DEFAULT, Variants
from labform.providers.bitbar.emulator.vocabulary import MODES_NEEDING_TEST_FILE
from labform.providers.bitbar.emulator.wire import reply, request_params
from labform.providers.emulation import Emulator, EmulatorApp, EmulatorOptions, Rejection


class BitbarCore(Emulator):
    """The stored records and the kit's hooks; handler areas (the mixins in app.py) build on it."""

    name = "bitbar"

    def __init__(self, options: EmulatorOptions, variants: Variants = DEFAULT):
        self.variants = variants
        credentials = options.credentials
        self.api_key = credentials.get("api_key", SANDBOX_API_KEY)
        self.username = credentials.get("username", SANDBOX_USERNAME)
        self.password = credentials.get("password", SANDBOX_PASSWORD)
        self.token_ttl = float(credentials.get("token_ttl", DEFAULT_TOKEN_TTL))
        super().__init__(options)

    def initial_data(self) -> dict[str, Any]:
        return initial_data(self.options.seed, self.username)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return error_body(status, message)

    def render(self, request: Request, rejection: Rejection) -> Response:
        response = reply(request, rejection.body, rejection.status, root="error")
        response.headers.update(rejection.headers)
        return response

    def app(self) -> EmulatorApp:
        app = super().app()
        app.starlette.add_exception_handler(HTTPException, self.routing_error)
        return app

    async def routing_error(self, request: Request, exc: Exception) -> Response:
        """Unknown paths and methods answer the same error object as the handlers."""
        assert isinstance(exc, HTTPException)
        return self.render(
            request, Rejection(exc.status_code, error_body(exc.status_code, exc.detail), headers=exc.headers)
        )

    def listing(self, request: Request, items: list[dict[str, Any]], item: str, name_field: str) -> Response:
        page_size = self.options.page_size
        return list_response(
            request, items, item, name_field, page_size, page_size if self.variants.max_limit == "page_size" else None
        )

    async def params(self, request: Request) -> dict[str, str]:
        """A write's parameters, from where this variant reads them."""
        return await request_params(request, from_query=self.variants.post_params == "query_or_body")

    # ---- lookups (404 for unknown ids and for objects under another parent)

    def lookup(
        self, collection: str, request: Request, param: str, parent: tuple[str, int] | None = None
    ) -> dict[str, Any]:
        """The record the path parameter ``param`` names, if it exists under ``parent`` (key, id)."""
        object_id = request.path_params[param]
        found = self.data[collection].get(str(object_id))
        if found is None or (parent is not None and found[parent[0]] != parent[1]):
            raise api_error(404, f"No {collection.removesuffix('s')} with id {object_id}")
        return found

    def project(self, request: Request) -> dict[str, Any]:
        return self.lookup("projects", request, "projectId")

    def run(self, request: Request) -> dict[str, Any]:
        return self.lookup("runs", request, "runId", ("projectId", self.project(request)["id"]))

    def device_run(self, request: Request) -> dict[str, Any]:
        return self.lookup("deviceRuns", request, "deviceRunId", ("runId", self.run(request)["id"]))

    def group(self, request: Request, writable: bool = False) -> dict[str, Any]:
        group = self.lookup("deviceGroups", request, "deviceGroupId")
        if writable and group["public"]:
            raise api_error(403, f"Device group {group['id']} is public and cannot be changed")
        return group

    def notification(self, request: Request) -> dict[str, Any]:
        return self.lookup("notifications", request, "id")

    # ---- bookkeeping

    def forget(self, collection: str, doomed: Callable[[dict[str, Any]], bool]) -> None:
        records = self.data[collection]
        for key in [k for k, record in records.items() if doomed(record)]:
            del records[key]

    def forget_run(self, run: dict[str, Any]) -> None:
        for device_run_id in run["deviceRunIds"]:
            del self.data["deviceRuns"][str(device_run_id)]
        self.forget("tags", lambda tag: tag["runId"] == run["id"])
        del self.data["runs"][str(run["id"])]

    def collect_files(self) -> None:
        """Drop stored uploads that no project slot and no run refers to any more (the user's file
        library, the vendor client's uploads, keeps its own)."""
        slots = [*self.data["projects"].values(), *self.data["runs"].values()]
        referenced = {file_id for owner in slots for file_id in owner["files"].values()}
        for key, record in list(self.data["files"].items()):
            if record["id"] not in referenced and record["projectId"] is not None:
                Path(record["path"]).unlink(missing_ok=True)
                del self.data["files"][key]

    def device_runs_of(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.data["deviceRuns"][str(i)] for i in run["deviceRunIds"]]

    def missing_inputs(self, files: dict[str, int | None], config: dict[str, Any]) -> list[str]:
        """What the mode needs that ``files`` (a project's slots, a run's) lack; a run without it tests nothing."""
        mode = config["mode"]
        missing = []
        if files["application"] is None:
            missing.append("an application file")
        if mode in MODES_NEEDING_TEST_FILE and files["test"] is None:
            missing.append(f"a test file ({mode} mode)")
        if mode == "UIAUTOMATOR" and not config["uiAutomatorTestClasses"]:
            missing.append("uiAutomatorTestClasses (UIAUTOMATOR mode)")
        return missing

    def run_available(self, files: dict[str, int | None], config: dict[str, Any]) -> bool:
        """projectConfig.runAvailable: a run started now with ``files`` would test on some device."""
        return not self.missing_inputs(files, config) and bool(
            self.data["deviceGroups"][str(config["usedDeviceGroupId"])]["deviceIds"]
        )
