"""Every request an emulator saw, so tests can prove what labform did (and did not) send.

Credentials are masked as a record is added, so neither a test's output nor
the ``/_emulator/requests`` endpoint ever shows one: an ``Authorization``
header keeps its scheme (``Basic (sensitive)``), a credential header
(``Perfecto-Authorization``, ``X-Auth-UserId``, an API key or token header)
and a credential query value (``access_token=``, ``api_key=``) read
``(sensitive)``. A test proves a credential arrived by the emulator's answer.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace

from labform.providers.masking import SENSITIVE

# Header and query names that carry a credential (matched case-insensitively, anywhere in the name).
_CREDENTIAL_NAME = re.compile(r"authorization|token|api[-_]?key|secret|password|x-auth|session", re.IGNORECASE)
_SCHEME = re.compile(r"^(\w+) \S")
_QUERY_PAIR = re.compile(r"(^|&)([^=&]*)=([^&]*)")


def masked_header(name: str, value: str) -> str:
    """``value`` as the log keeps it: a credential masked, an Authorization scheme kept."""
    if not _CREDENTIAL_NAME.search(name):
        return value
    scheme = _SCHEME.match(value) if name.lower().endswith("authorization") else None
    return f"{scheme.group(1)} {SENSITIVE}" if scheme else SENSITIVE


def masked_query(query: str) -> str:
    """The raw query string with each credential's value replaced (the names and order kept)."""

    def mask(pair: re.Match[str]) -> str:
        start, name, value = pair.groups()
        return f"{start}{name}={SENSITIVE if _CREDENTIAL_NAME.search(name) and value else value}"

    return _QUERY_PAIR.sub(mask, query)


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
        record = replace(
            record,
            query=masked_query(record.query),
            headers={name: masked_header(name, value) for name, value in record.headers.items()},
        )
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
