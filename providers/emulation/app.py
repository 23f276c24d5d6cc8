"""``EmulatorApp``: a cloud's routes served behind the kit's faults, request log and control endpoints.

The control endpoints (under ``CONTROL_PREFIX``, never faulted or logged) let
a test in another process read the request log, read the store (to count what
the emulator holds, whatever faults the cloud's own API is injecting) and move
the clock. The store is saved after every request that may have changed it,
so the sandbox keeps its data across commands.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from providers.emulation.faults import ErrorBody, FaultMiddleware
from providers.emulation.options import EmulatorOptions
from providers.emulation.rejections import Rejection, Render, rejection_handler
from providers.emulation.requestlog import RequestLog
from providers.emulation.store import JsonStore

CONTROL_PREFIX = "/_emulator"


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
        control = [
            Route(CONTROL_PREFIX + "/requests", self._requests, methods=["GET"]),
            Route(CONTROL_PREFIX + "/store", self._store, methods=["GET"]),
            Route(CONTROL_PREFIX + "/clock", self._advance, methods=["POST"]),
        ]
        self.starlette = Starlette(routes=control + routes)
        self.starlette.add_exception_handler(Rejection, rejection_handler(render))
        self.asgi = FaultMiddleware(self.starlette, options, log, error_body, exempt_prefix=CONTROL_PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)
        if scope["type"] == "http" and scope["method"] != "GET":
            self.store.save()

    async def _requests(self, request: Request) -> JSONResponse:
        return JSONResponse([r.__dict__ for r in self.log.all()])

    async def _store(self, request: Request) -> JSONResponse:
        with self.store.lock:
            return JSONResponse(self.store.data)

    async def _advance(self, request: Request) -> JSONResponse:
        seconds = float(request.query_params.get("advance", "0"))
        self.clock.advance(seconds)
        return JSONResponse({"now": self.clock.now()})
