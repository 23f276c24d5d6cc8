"""Hostile answers: what a broken or malicious server sends instead of the handler's success.

Each replaces a 2xx answer the handler has already made (faults.py draws
which, options.py names them): too slow (a byte at a time), too big (streamed,
never held; or small on the line and huge once inflated), JSON of the wrong
shape, or an upload taken in at a crawl. None can be fixed by a retry; a client
must end each in a named error, within its deadline.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.types import Message, Receive, Send

from labform.providers.emulation.options import EmulatorOptions

# Retry-After values that are neither seconds nor an HTTP date.
BAD_RETRY_AFTER = ("soon", "Mon, 99 Foo 2026 25:61:00 GMT", "-", "1e999x")
CHUNK = 1024 * 1024
# (options, the handler's status, its body, send, receive): sends the hostile answer instead.
Answer = Callable[[EmulatorOptions, int, bytes, Send, Receive], Awaitable[None]]


async def _start(send: Send, status: int, length: int | None = None, gzipped: bool = False) -> None:
    headers = [(b"content-type", b"application/json")]
    if gzipped:
        headers.append((b"content-encoding", b"gzip"))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _json(send: Send, status: int, value: Any) -> None:
    body = json.dumps(value).encode()
    await _start(send, status, len(body))
    await send({"type": "http.response.body", "body": body})


async def slow_body(options: EmulatorOptions, status: int, body: bytes, send: Send, receive: Receive) -> None:
    """The answer, a byte every ``slow_body_delay`` seconds: each read is short, the whole endless.
    It stops when the client hangs up, so a server thread is not held for the rest of it."""
    async with anyio.create_task_group() as group:

        async def hang_up() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()

        group.start_soon(hang_up)
        await _start(send, status, len(body))
        for index in range(len(body)):
            await send({"type": "http.response.body", "body": body[index : index + 1], "more_body": True})
            await anyio.sleep(options.slow_body_delay)
        await send({"type": "http.response.body", "body": b""})
        group.cancel_scope.cancel()


async def huge_body(options: EmulatorOptions, status: int, body: bytes, send: Send, receive: Receive) -> None:
    """``huge_body_bytes`` of valid JSON, sent in chunks with no length declared (the server never holds it)."""
    await _start(send, status)
    head, tail = b'{"padding": "', b'"}'
    await send({"type": "http.response.body", "body": head, "more_body": True})
    left = max(0, options.huge_body_bytes - len(head) - len(tail))
    filler = b"x" * CHUNK
    while left > 0:
        await send({"type": "http.response.body", "body": filler[:left], "more_body": True})
        left -= CHUNK
    await send({"type": "http.response.body", "body": tail})


async def gzip_bomb(options: EmulatorOptions, status: int, body: bytes, send: Send, receive: Receive) -> None:
    """``huge_body_bytes`` of valid JSON once inflated, sent gzipped: about a thousandth of it on the line."""
    await _start(send, status, gzipped=True)
    packer = zlib.compressobj(wbits=31)  # 31: the gzip container
    head, tail = b'{"padding": "', b'"}'
    await send({"type": "http.response.body", "body": packer.compress(head), "more_body": True})
    left = max(0, options.huge_body_bytes - len(head) - len(tail))
    filler = b"x" * CHUNK
    while left > 0:
        await send({"type": "http.response.body", "body": packer.compress(filler[:left]), "more_body": True})
        left -= CHUNK
    await send({"type": "http.response.body", "body": packer.compress(tail) + packer.flush()})


def slow_receive(receive: Receive, delay: float) -> Receive:
    """The request's body taken in a piece every ``delay`` seconds (the server reads no faster, so
    the client's writes block): an upload at a crawl."""

    async def receive_slowly() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            await anyio.sleep(delay)
        return message

    return receive_slowly


def swapped(value: Any) -> Any:
    """A value of another JSON type: a number for a string, a string for a number, a list for an object..."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, list):
        return {str(index): item for index, item in enumerate(value)}
    return 0


def emptied(value: Any) -> Any:
    """Every list in the answer empty, everything else (the paging: next, total, truncated) kept."""
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {key: emptied(item) for key, item in value.items()}
    return value


def _reshaped(change: Callable[[Any], Any]) -> Answer:
    """An answer kind that rewrites the handler's JSON answer with ``change`` (a body that is not JSON stays)."""

    async def answer(options: EmulatorOptions, status: int, body: bytes, send: Send, receive: Receive) -> None:
        try:
            value = json.loads(body) if body else None
        except ValueError:
            value = None
        await _json(send, status, change(value))

    return answer


def _swapped_members(value: Any) -> Any:
    return {key: swapped(item) for key, item in value.items()} if isinstance(value, dict) else swapped(value)


ANSWERS: dict[str, Answer] = {
    "slow-body": slow_body,
    "huge-body": huge_body,
    "gzip-bomb": gzip_bomb,
    "swapped-types": _reshaped(_swapped_members),
    "list-body": _reshaped(lambda value: [value]),
    "null-body": _reshaped(lambda value: None),
    "empty-page": _reshaped(emptied),
}
