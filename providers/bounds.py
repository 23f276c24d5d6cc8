"""A response body checked as each chunk arrives, so no answer holds labform longer or larger than allowed.

httpx's own timeouts bound each read, never a whole body: a server sending a
byte a second keeps every read short and the answer endless. ``Guarded``
wraps the raw stream httpx reads from (the documented streaming API) and
raises as soon as a chunk arrives past the attempt's deadline, past the size
cap (raw bytes, as they come off the line), or, for a download, when the pace
over a window falls under the minimum rate.

Imported by providers/http.py when a request is sent: it subclasses an httpx
type, and validate never loads httpx.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx

# (message, retryable) -> the error to raise (providers/http.py names the cloud and the operation).
Fault = Callable[[str, bool], Exception]


class Guarded(httpx.SyncByteStream):
    """``until``: (deadline, the setting that sets it); ``cap``: most bytes; ``pace``: (bytes/s, window s)."""

    def __init__(
        self,
        inner: httpx.SyncByteStream | httpx.AsyncByteStream,
        fault: Fault,
        *,
        until: tuple[float, str] | None = None,
        cap: int | None = None,
        pace: tuple[float, float] | None = None,
    ):
        if not isinstance(inner, httpx.SyncByteStream):  # labform's client is synchronous
            raise TypeError("a guarded body reads a synchronous stream")
        self.inner = inner
        self.fault = fault
        self.until = until
        self.cap = cap
        self.pace = pace

    def __iter__(self) -> Iterator[bytes]:
        started = window_start = time.monotonic()
        seen = window_bytes = 0
        for chunk in self.inner:
            now = time.monotonic()
            seen += len(chunk)
            self.check_size(seen)
            if self.until is not None and now > self.until[0]:
                raise self.fault(
                    f"the answer was still arriving after {now - started:.1f}s ({seen} bytes so far): "
                    f"the server is too slow; check it, or raise '{self.until[1]}' in the provider block"
                    " ('timeout' bounds each attempt, 'operation_timeout' the whole call)",
                    True,
                )
            if self.pace is not None:
                window_bytes += len(chunk)
                elapsed = now - window_start
                if elapsed >= self.pace[1]:
                    if window_bytes < self.pace[0] * elapsed:
                        raise self.fault(
                            f"the download slowed to {window_bytes / elapsed:.0f} bytes/s over {elapsed:.0f}s "
                            f"({seen} bytes so far), under download_min_rate ({self.pace[0]:.0f}); "
                            "check the line, or lower 'download_min_rate' in the provider block",
                            False,
                        )
                    window_start, window_bytes = now, 0
            yield chunk

    def check_size(self, size: int) -> None:
        if self.cap is not None and size > self.cap:
            raise self.fault(
                f"the answer is larger than max_answer_size ({self.cap} bytes) and was dropped unread: "
                "check the endpoint, or raise 'max_answer_size' in the provider block",
                False,
            )

    def close(self) -> None:
        self.inner.close()
