"""Keep secrets out of every output: a process-wide list of values to mask.

Sensitive settings and arguments are registered as soon as they are resolved;
the CLI's log handler and error printer pass text through :func:`redact`, so
a secret that slips into a message still prints as ``(sensitive)``.
"""

from __future__ import annotations

import hashlib
import logging
import threading

SENSITIVE = "(sensitive)"
_values: set[str] = set()
_lock = threading.Lock()


def register(value: object) -> None:
    text = str(value) if value is not None else ""
    if len(text) >= 4:
        with _lock:
            _values.add(text)


def redact(text: str) -> str:
    with _lock:
        values = sorted(_values, key=len, reverse=True)
    for value in values:
        text = text.replace(value, SENSITIVE)
    return text


def fingerprint(value: object) -> str:
    """What state keeps instead of a secret: enough to notice a change, nothing more."""
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()


def is_fingerprint(value: object) -> bool:
    return isinstance(value, str) and value.startswith("sha256:")


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True
