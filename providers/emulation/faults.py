"""What a real network does to labform: latency, refused requests, lost answers, garbled answers.

``FaultMiddleware`` wraps a cloud's app and logs every request with its body
size in a ``RequestLog``, the response included, before the client can see it.

A fault (options.py names the kinds) fires either *before* the handler runs
(``429``, ``500``, ``drop``: the cloud did nothing, a retry is harmless) or
*after* it acted (``500-after``, ``drop-after``, ``malformed``: the object
exists, the client cannot tell), which is the case that duplicates objects
when a client retries a create blindly. Hostile answers (options.py's
``HOSTILE``: too slow, too big, of the wrong shape, a Retry-After that means
nothing) are built by ``hostile.py``.

Each request's fault is drawn from a generator fixed by the seed, the
request's shape (method, path and query, ids masked) and how many requests of
that shape came before it, rather than from one shared sequence: an apply that
sends requests in parallel, or is given other ids, meets the same faults
again, so a failing test fails the same way.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labform.providers.emulation import hostile
from labform.providers.emulation.fakes import seeded_random
from labform.providers.emulation.options import EmulatorOptions
from labform.providers.emulation.requestlog import RequestLog, RequestRecord

# (status, message) -> the cloud's error body, so an injected fault looks like the cloud's own.
ErrorBody = Callable[[int, str], Any]

# What a ``malformed`` fault answers instead of the handler's success: an HTML
# page (a proxy or gateway speaking), the body cut in half, or nothing at all.
MALFORMED_BODIES = ("html", "truncated", "empty")
GATEWAY_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
    b"<body><h1>Please try again later</h1><p>The gateway could not reach the application.</p></body></html>\n"
)
# Ids in paths and query values (numbers, hex ids) do not change a request's shape.
_ID = re.compile(r"(?<=[/=])(?:\d+|[0-9a-fA-F]{8,})(?=$|[/&.?])")


class FaultMiddleware:
    """Requests under ``exempt_prefix`` (the kit's control endpoints) pass untouched and unlogged."""

    def __init__(
        self, app: ASGIApp, options: EmulatorOptions, log: RequestLog, error_body: ErrorBody, exempt_prefix: str
    ):
        self.app = app
        self.options = options
        self.log = log
        self.error_body = error_body
        self.exempt_prefix = exempt_prefix
        self._seen: dict[str, int] = {}
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

        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                counted["bytes"] += len(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counted["status"] = message["status"]
                if _bodiless(message):  # the client has the whole answer once it has the headers
                    record()
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        try:
            if self.options.latency:
                await anyio.sleep(self.options.latency)
            drawn = self._draw(scope)
            if drawn is None:
                await self.app(scope, counting_receive, recording_send)
                return
            kind, rng = drawn
            if kind == "drop":
                await _drop(send, b"")  # status 0 in the log: the client got no answer
            elif kind in ("429", "500"):
                await self._refuse(int(kind), "injected fault", scope, counting_receive, recording_send)
            elif kind == "slow-upload":
                slowed = hostile.slow_receive(counting_receive, self.options.slow_body_delay)
                await self.app(scope, slowed, recording_send)
            elif kind == "bad-retry-after":
                await self._refuse(
                    429, "injected fault", scope, counting_receive, recording_send, rng.choice(hostile.BAD_RETRY_AFTER)
                )
            else:
                answer = _Captured()
                await self.app(scope, counting_receive, answer.send)
                await self._after(kind, rng, answer, scope, counting_receive, recording_send, send)
        finally:
            record()

    def _draw(self, scope: Scope) -> tuple[str, random.Random] | None:
        """The fault this request gets, if any, and the generator that decides its details."""
        if self.options.failure_rate <= 0:
            return None
        paths = self.options.failure_paths
        if paths is not None and not re.search(paths, f"{scope['method']} {scope['path']}"):
            return None
        shape = _ID.sub("*", f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}")
        with self._lock:
            nth = self._seen[shape] = self._seen.get(shape, 0) + 1
        rng = seeded_random(self.options.seed, "fault", shape, nth)
        if rng.random() >= self.options.failure_rate:
            return None
        return rng.choice(self.options.failure_kinds), rng

    async def _refuse(
        self, status: int, message: str, scope: Scope, receive: Receive, send: Send, retry_after: str | None = None
    ) -> None:
        headers = {"Retry-After": retry_after or str(self.options.retry_after)} if status == 429 else {}
        await JSONResponse(self.error_body(status, message), status_code=status, headers=headers)(scope, receive, send)

    async def _after(
        self,
        kind: str,
        rng: random.Random,
        answer: _Captured,
        scope: Scope,
        receive: Receive,
        recording_send: Send,
        send: Send,
    ) -> None:
        """Replace the answer of a handler that has already acted."""
        if kind == "500-after":
            await self._refuse(
                500, "injected fault (after the request was carried out)", scope, receive, recording_send
            )
        elif kind == "drop-after":
            await _drop(send, bytes(answer.body[: len(answer.body) // 2]))
        elif kind in hostile.ANSWERS:
            if 200 <= answer.status < 300:
                await hostile.ANSWERS[kind](self.options, answer.status, bytes(answer.body), recording_send, receive)
            else:
                await answer.replay(recording_send)
        elif kind != "malformed":
            raise ValueError(f"unknown fault kind {kind!r}")
        elif 200 <= answer.status < 300:  # only a success is garbled: an error stays the cloud's error
            await _malformed(rng.choice(MALFORMED_BODIES), answer, recording_send)
        else:
            await answer.replay(recording_send)


class _Captured:
    """The handler's answer, held back so that a fault can replace it once the handler has acted."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    async def replay(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": bytes(self.body)})


async def _malformed(form: str, answer: _Captured, send: Send) -> None:
    """A 200 whose body the client cannot read as the cloud's answer."""
    if form == "html":
        body, content_type = GATEWAY_PAGE, b"text/html; charset=utf-8"
    else:
        body = bytes(answer.body[: len(answer.body) // 2]) if form == "truncated" else b""
        content_type = answer.header(b"content-type") or b"application/json"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send: Send, partial: bytes) -> None:
    """Promise more body than is sent and return: the server closes the connection mid-answer.

    Returning (rather than raising) lets the app save its store after a
    ``drop-after``, so what the handler did is kept like any other change.
    """
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(partial) + 100).encode())],
        }
    )
    if partial:
        await send({"type": "http.response.body", "body": partial, "more_body": True})


def _bodiless(start: Message) -> bool:
    """A 204 / 304, or an answer that says Content-Length: 0, is complete at its headers."""
    return start["status"] in (204, 304) or (b"content-length", b"0") in start.get("headers", [])
