"""Keep secrets out of every output: a process-wide list of values to mask.

It lives in the bottom layer so both sides can reach it: providers register a
secret they learn (an OAuth token), the engine registers sensitive settings and
arguments as soon as they are resolved, and the CLI's log handler and error
printer pass text through :func:`redact`, so a secret that slips into a
message still prints as ``(sensitive)``.
"""

from __future__ import annotations

import threading

SENSITIVE = "(sensitive)"
_values: set[str] = set()
_lock = threading.Lock()


def register(value: object) -> None:
    """Mask ``value`` in every later :func:`redact` (values under 4 characters would mask ordinary text)."""
    text = str(value) if value is not None else ""
    if len(text) >= 4:
        with _lock:
            _values.add(text)


def holds(value: object) -> bool:
    """Whether a registered secret is ``value`` or part of it (a text, a number, or inside a list or map):
    a value built from a secret is as secret as the secret."""
    if isinstance(value, dict):
        return any(holds(item) for item in value.values())
    if isinstance(value, list):
        return any(holds(item) for item in value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    text = str(value)
    if len(text) < 4:
        return False
    with _lock:
        return any(secret in text for secret in _values)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``(sensitive)``, longest first."""
    with _lock:
        values = sorted(_values, key=len, reverse=True)
    for value in values:
        text = text.replace(value, SENSITIVE)
    return text
