"""Bounds on one HTTP exchange, kept at the socket: no read or write waits past what is left.

httpx's timeouts bound each socket read and write, never an exchange
(encode/httpx#1450): a server trickling its status line, its headers or its
body a byte at a time, or taking an upload in at a crawl, keeps every wait
short and the exchange endless. labform's connections are made through a
network backend whose streams look up the calling thread's current
:class:`Bound` (a context variable providers/http.py sets around each attempt
and each streamed body) before every read and write:

- ``until``: a deadline; each wait is cut to the time left, and one reaching it
  raises the bound's fault as *overdue* (a safe request may be asked again);
- ``reads`` / ``writes``: a :class:`Pace` for a body with no deadline (a
  download, an upload): each wait is cut to its window, and fewer bytes than
  its rate over a window end the transfer;
- ``answer_within``: for an upload, the deadline of its answer, counted from
  the moment the body is sent (the first read).

Imported by providers/http.py when it builds a client: validate never loads httpx.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

# (message, overdue) -> the error to raise: providers/http.py names the cloud and the operation.
Fault = Callable[[str, bool], Exception]

SETTINGS_HINT = "('timeout' bounds each attempt, 'operation_timeout' the whole call)"


@dataclass
class Pace:
    """At least ``rate`` bytes a second over every ``window`` seconds; ``setting`` names the rate."""

    rate: float
    window: float
    what: str
    setting: str
    started: float = field(default_factory=time.monotonic)
    moved: int = 0

    def count(self, size: int, seen: int, fault: Fault) -> None:
        self.moved += size
        now = time.monotonic()
        elapsed = now - self.started
        if elapsed < self.window:
            return
        if self.moved < self.rate * elapsed:
            raise fault(
                f"the {self.what} slowed to {self.moved / elapsed:.0f} bytes/s over {elapsed:.0f}s "
                f"({seen} bytes so far), under {self.setting} ({self.rate:.0f}); "
                f"check the line, or lower '{self.setting}' in the provider block",
                False,
            )
        self.started, self.moved = now, 0

    def stalled(self, seen: int, fault: Fault) -> Exception:
        return fault(
            f"the {self.what} stalled: nothing moved for {self.window:.0f}s ({seen} bytes so far); "
            f"check the line, or raise '{self.setting.replace('min_rate', 'idle_timeout')}' in the provider block",
            False,
        )


@dataclass
class Bound:
    """What one attempt (or one streamed body) may take; ``until`` is (deadline, the setting that sets it)."""

    fault: Fault
    until: tuple[float, str] | None = None
    reads: Pace | None = None
    writes: Pace | None = None
    answer_within: tuple[float, str] | None = None
    started: float = field(default_factory=time.monotonic)
    seen: int = 0

    def wait(self, timeout: float | None, pace: Pace | None) -> float | None:
        """The longest the next read or write may wait, or the overdue fault once the deadline is reached."""
        if pace is not None:
            timeout = pace.window if timeout is None else min(timeout, pace.window)
        if self.until is None:
            return timeout
        left = self.until[0] - time.monotonic()
        if left <= 0:
            raise self.overdue()
        return left if timeout is None else min(timeout, left)

    def overdue(self) -> Exception:
        took = time.monotonic() - self.started
        return self.fault(
            f"the answer was still arriving after {took:.1f}s ({self.seen} bytes so far): the server is too "
            f"slow; check it, or raise '{self.until[1] if self.until else 'timeout'}' in the provider block "
            + SETTINGS_HINT,
            True,
        )

    def late(self) -> bool:
        return self.until is not None and time.monotonic() >= self.until[0]

    def body_sent(self) -> None:
        """The first read of an upload's attempt: its body is out, its answer now has a deadline."""
        if self.writes is not None and self.answer_within is not None:
            self.writes, (within, setting), self.answer_within = None, self.answer_within, None
            self.until = (time.monotonic() + within, setting)


_BOUND: ContextVar[Bound | None] = ContextVar("labform_http_bound", default=None)


@contextmanager
def bounded(bound: Bound) -> Iterator[Bound]:
    """Every read and write this thread makes inside the block keeps to ``bound``."""
    token = _BOUND.set(bound)
    try:
        yield bound
    finally:
        _BOUND.reset(token)


class BoundedStream(httpcore.NetworkStream):
    """One connection's socket stream, keeping to the calling thread's bound (none outside one)."""

    def __init__(self, inner: httpcore.NetworkStream):
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bound = _BOUND.get()
        if bound is None:
            return self.inner.read(max_bytes, timeout)
        bound.body_sent()
        try:
            data = self.inner.read(max_bytes, bound.wait(timeout, bound.reads))
        except httpcore.ReadTimeout:
            if bound.late():
                raise bound.overdue() from None
            if bound.reads is not None:
                raise bound.reads.stalled(bound.seen, bound.fault) from None
            raise
        bound.seen += len(data)
        if bound.reads is not None:
            bound.reads.count(len(data), bound.seen, bound.fault)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        bound = _BOUND.get()
        if bound is None:
            return self.inner.write(buffer, timeout)
        try:
            self.inner.write(buffer, bound.wait(timeout, bound.writes))
        except httpcore.WriteTimeout:
            if bound.late():
                raise bound.overdue() from None
            if bound.writes is not None:
                raise bound.writes.stalled(bound.writes.moved, bound.fault) from None
            raise
        if bound.writes is not None:
            bound.writes.count(len(buffer), len(buffer), bound.fault)

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bound = _BOUND.get()
        wait = timeout if bound is None else bound.wait(timeout, None)
        return BoundedStream(self.inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class BoundedBackend(httpcore.NetworkBackend):
    """httpcore's own backend, its streams wrapped and its connects cut to the time left."""

    def __init__(self, inner: httpcore.NetworkBackend):
        self.inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bound = _BOUND.get()
        wait = timeout if bound is None else bound.wait(timeout, None)
        return BoundedStream(self.inner.connect_tcp(host, port, wait, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bound = _BOUND.get()
        wait = timeout if bound is None else bound.wait(timeout, None)
        return BoundedStream(self.inner.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def bounded_transport() -> httpx.HTTPTransport:
    """httpx's transport (its TLS, pooling and error mapping), its connections made through the
    bounded backend. httpx takes no network backend argument, so the pool it builds is given one;
    tests/providers/test_deadlines.py fails at once if a new httpx keeps its pool elsewhere."""
    transport = httpx.HTTPTransport()
    pool = transport._pool
    if not isinstance(pool, httpcore.ConnectionPool):
        raise TypeError(f"httpx built a {type(pool).__name__}, not the connection pool labform bounds")
    pool._network_backend = BoundedBackend(pool._network_backend)
    return transport
