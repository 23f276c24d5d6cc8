"""Shared machinery for the cloud emulators: clock, faults, request log, server.

Every emulator (``providers/<cloud>/emulator.py``) is a Starlette app built by a
function ``build_app(options: EmulatorOptions) -> EmulatorApp``. What they all
need, and what therefore lives here once:

- ``Clock``: virtual time that async work (runs, boots) progresses on. Tests
  freeze it (``speed=0``) and ``advance()`` it; the sandbox runs it fast.
- ``EmulatorOptions``: latency, failure rate, page size, seed, persistence file.
- ``FaultMiddleware``: injects latency and faults (429 with Retry-After, 500,
  dropped connections) and records every request in a ``RequestLog``.
- ``EmulatorServer``: serves an app with uvicorn on a loopback port in a thread.
- ``page_window``: offset/limit arithmetic shared by list endpoints.

Usage::

    app = bitbar.emulator.build_app(EmulatorOptions(page_size=5))
    with EmulatorServer(app) as server:
        httpx.get(server.url + "/api/v2/devices", auth=("key", ""))
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

CONTROL_PREFIX = "/_emulator"


class Clock:
    """Virtual time in seconds; ``speed`` real seconds scale, ``advance`` jumps.

    >>> clock = Clock(speed=0); clock.advance(30); clock.now() >= 30
    True
    """

    def __init__(self, speed: float = 1.0, start: float = 0.0):
        self.speed = speed
        self._offset = start
        self._real_start = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._offset + (time.monotonic() - self._real_start) * self.speed

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


@dataclass
class EmulatorOptions:
    """Knobs every emulator honours; the defaults make a quiet, exact server."""

    latency: float = 0.0
    failure_rate: float = 0.0
    failure_kinds: tuple[str, ...] = ("429", "500", "drop")
    retry_after: int = 1
    page_size: int = 20
    seed: int = 7
    clock: Clock = field(default_factory=lambda: Clock(speed=0))
    # Seconds of virtual time a run / async job takes to finish.
    job_duration: float = 60.0
    # Share (0..1) of simulated test cases that fail, drawn from ``seed``.
    failure_share: float = 0.0
    data_file: Path | None = None
    # Credentials the emulator accepts; each cloud reads the keys it knows.
    credentials: dict[str, str] = field(default_factory=dict)


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    status: int
    body_bytes: int
    headers: dict[str, str]
    # monotonic seconds, so tests can see whether two requests overlapped
    started: float = 0.0
    finished: float = 0.0


class RequestLog:
    """Every request the emulator saw, for tests that prove what was (not) sent."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def all(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def matching(self, method: str | None = None, path_contains: str = "") -> list[RequestRecord]:
        return [
            r
            for r in self.all()
            if (method is None or r.method == method) and path_contains in r.path
        ]

    def bytes_received(self, path_contains: str = "") -> int:
        return sum(r.body_bytes for r in self.matching(path_contains=path_contains))


ErrorBody = Callable[[int, str], Any]


class FaultMiddleware:
    """Adds latency and seeded faults, and logs each request with its body size."""

    def __init__(self, app: ASGIApp, options: EmulatorOptions, log: RequestLog, error_body: ErrorBody):
        self.app = app
        self.options = options
        self.log = log
        self.error_body = error_body
        self._random = random.Random(options.seed)
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
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


class EmulatorApp:
    """A cloud's Starlette app plus the handles tests and the sandbox use."""

    def __init__(
        self,
        name: str,
        routes: list[Route],
        options: EmulatorOptions,
        error_body: ErrorBody,
        store: "JsonStore",
    ):
        self.name = name
        self.options = options
        self.clock = options.clock
        self.log = RequestLog()
        self.store = store
        control = [
            Route(CONTROL_PREFIX + "/requests", self._requests, methods=["GET"]),
            Route(CONTROL_PREFIX + "/clock", self._advance, methods=["POST"]),
        ]
        self.starlette = Starlette(routes=control + routes)
        self.asgi = FaultMiddleware(self.starlette, options, self.log, error_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)
        if scope["type"] == "http" and scope["method"] != "GET":
            self.store.save()

    async def _requests(self, request):
        return JSONResponse([r.__dict__ for r in self.log.all()])

    async def _advance(self, request):
        seconds = float(request.query_params.get("advance", "0"))
        self.clock.advance(seconds)
        return JSONResponse({"now": self.clock.now()})


class JsonStore:
    """An emulator's objects as plain dicts, optionally kept in a JSON file.

    The sandbox passes a file so that a second ``labform apply --sandbox`` sees
    what the first created; tests leave it in memory.
    """

    def __init__(self, path: Path | None, initial: Callable[[], dict[str, Any]]):
        self.path = path
        self.lock = threading.RLock()
        if path is not None and path.exists():
            self.data = json.loads(path.read_text())
        else:
            self.data = initial()

    def next_id(self, counter: str = "id", start: int = 1000) -> int:
        with self.lock:
            counters = self.data.setdefault("_counters", {})
            counters[counter] = counters.get(counter, start) + 1
            return counters[counter]

    def save(self) -> None:
        if self.path is None:
            return
        with self.lock:
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
            os.replace(tmp, self.path)


def page_window(items: list[Any], offset: int, limit: int) -> list[Any]:
    return items[offset : offset + limit]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmulatorServer:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in a daemon thread.

    >>> with EmulatorServer(app) as server: print(server.url)
    """

    def __init__(self, app: ASGIApp, port: int | None = None):
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name=f"emulator:{self.port}")

    def start(self) -> "EmulatorServer":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"emulator failed to start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def empty_response(status: int) -> Response:
    return Response(b"", status_code=status)
