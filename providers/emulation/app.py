"""``EmulatorApp``: a cloud's routes served behind the kit's faults, request log and control endpoints.

The control endpoints (under ``CONTROL_PREFIX``, never faulted or logged) let
a test in another process read the request log, read the store (to count what
the emulator holds, whatever faults the cloud's own API is injecting) and move
the clock. They answer only a request carrying the app's ``inspection_token``
in the ``INSPECTION_HEADER`` header (401 otherwise), a token made for each app;
``inspection_token = None`` opens them (``labform sandbox --open-inspection``).
The store is saved after every request that may have changed it, so the
sandbox keeps its data across commands.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from labform.providers.emulation.faults import ErrorBody, FaultMiddleware
from labform.providers.emulation.options import EmulatorOptions
from labform.providers.emulation.rejections import Rejection, Render, rejection_handler
from labform.providers.emulation.requestlog import RequestLog
from labform.providers.emulation.store import JsonStore

CONTROL_PREFIX = "/_emulator"
INSPECTION_HEADER = "Labform-Inspection-Token"


def inspection_token() -> str:
    """A fresh token for the control endpoints (unguessable: they show the store and every request)."""
    return secrets.token_urlsafe(18)


class EmulatorApp:
    """The ASGI app tests and the sandbox serve, with the handles they inspect (log, store, clock)."""

    def __init__(
        self,
        name: str,
        routes: list[BaseRoute],
        options: EmulatorOptions,
        store: JsonStore,
        log: RequestLog,
        error_body: ErrorBody,
        render: Render,
    ):
        self.name = name
        self.options = options
        self.clock = options.clock
        self.log = log
        self.store = store
        self.inspection_token: str | None = inspection_token()
        control = [
            Route(CONTROL_PREFIX + "/requests", self._requests, methods=["GET"]),
            Route(CONTROL_PREFIX + "/store", self._store, methods=["GET"]),
            Route(CONTROL_PREFIX + "/clock", self._advance, methods=["POST"]),
        ]
        self.starlette = Starlette(routes=control + routes)
        self.starlette.add_exception_handler(Rejection, rejection_handler(render))
        self.asgi = FaultMiddleware(self.starlette, options, log, error_body, exempt_prefix=CONTROL_PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CONTROL_PREFIX) and not self._may_inspect(scope):
            message = (
                f"the emulator's {CONTROL_PREFIX} endpoints need its inspection token (header {INSPECTION_HEADER})"
            )
            await JSONResponse({"error": message}, status_code=401)(scope, receive, send)
            return
        await self.asgi(scope, receive, send)
        if scope["type"] == "http" and scope["method"] != "GET":
            self.store.save()

    def _may_inspect(self, scope: Scope) -> bool:
        if self.inspection_token is None:
            return True
        name = INSPECTION_HEADER.lower().encode()
        sent = next((value for key, value in scope.get("headers", []) if key.lower() == name), b"")
        return hmac.compare_digest(sent, self.inspection_token.encode())

    async def _requests(self, request: Request) -> JSONResponse:
        return JSONResponse([r.__dict__ for r in self.log.all()])

    async def _store(self, request: Request) -> JSONResponse:
        with self.store.lock:
            return JSONResponse(self.store.data)

    async def _advance(self, request: Request) -> JSONResponse:
        seconds = float(request.query_params.get("advance", "0"))
        self.clock.advance(seconds)
        return JSONResponse({"now": self.clock.now()})
