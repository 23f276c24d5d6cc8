"""Every request an emulator saw, so tests can prove what labform did (and did not) send."""

from __future__ import annotations

import threading
from dataclasses import dataclass


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
    """Thread-safe: the server thread adds while the test thread reads."""

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
        return [r for r in self.all() if (method is None or r.method == method) and path_contains in r.path]

    def bytes_received(self, path_contains: str = "") -> int:
        return sum(r.body_bytes for r in self.matching(path_contains=path_contains))
