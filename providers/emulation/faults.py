"""What a real network does to labform: latency, 429 with Retry-After, 500, dropped connections.

``FaultMiddleware`` wraps a cloud's app, draws faults from the options' seed
(so a failing test fails the same way again) and logs every request with its
body size in a ``RequestLog``, the response included, before the client can
see it.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Callable

import anyio
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from providers.emulation.options import EmulatorOptions
from providers.emulation.requestlog import RequestLog, RequestRecord

# (status, message) -> the cloud's error body, so an injected fault looks like the cloud's own.
ErrorBody = Callable[[int, str], Any]


class FaultMiddleware:
    """Requests under ``exempt_prefix`` (the kit's control endpoints) pass untouched and unlogged."""

    def __init__(self, app: ASGIApp, options: EmulatorOptions, log: RequestLog, error_body: ErrorBody, exempt_prefix: str):
        self.app = app
        self.options = options
        self.log = log
        self.error_body = error_body
        self.exempt_prefix = exempt_prefix
        self._random = random.Random(options.seed)
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        counted = {"bytes": 0, "status": 0, "recorded": False}
        started = time.monotonic()

        def record() -> None:
            """Log once, before the last body byte leaves, so a client never sees a response its log lacks."""
            if counted["recorded"]:
                return
            counted["recorded"] = True
            headers = {k.decode(): v.decode() for k, v in scope.get("headers", [])}
            self.log.add(
                RequestRecord(
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode(),
                    status=counted["status"],
                    body_bytes=counted["bytes"],
                    headers=headers,
                    started=started,
                    finished=time.monotonic(),
                )
            )

        async def counting_receive():
            message = await receive()
            if message["type"] == "http.request":
                counted["bytes"] += len(message.get("body", b""))
            return message

        async def recording_send(message):
            if message["type"] == "http.response.start":
                counted["status"] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        try:
            if self.options.latency:
                await anyio.sleep(self.options.latency)
            fault = self._draw_fault()
            if fault == "drop":
                await self._drop(scope, counting_receive, send)
            elif fault:
                status = int(fault)
                headers = {"Retry-After": str(self.options.retry_after)} if status == 429 else {}
                body = self.error_body(status, "injected fault")
                await JSONResponse(body, status_code=status, headers=headers)(scope, counting_receive, recording_send)
            else:
                await self.app(scope, counting_receive, recording_send)
        finally:
            record()

    def _draw_fault(self) -> str | None:
        if self.options.failure_rate <= 0:
            return None
        with self._lock:
            if self._random.random() >= self.options.failure_rate:
                return None
            return self._random.choice(self.options.failure_kinds)

    @staticmethod
    async def _drop(scope: Scope, receive: Receive, send: Send) -> None:
        """Promise a body and never send it: the client sees a broken connection."""
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("emulator dropped the connection (injected fault)")
