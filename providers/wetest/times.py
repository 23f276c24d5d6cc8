"""WeTest's times: the doc types them "string" and shows no format, so each one a server may use is read.

Read: ``YYYY-MM-DD HH:MM:SS`` (fractions allowed), ISO 8601 (``T``, ``Z``,
offsets), and epoch seconds or milliseconds written as digits. A number of
digits standing for a time past the year 5000 in seconds is read as
milliseconds. A time without a zone is UTC. Anything else is unreadable:
``None``, never a made-up 0.

    span("2024-01-01 00:00:05", "2024-01-01T00:00:09Z") == 4.0
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Epoch seconds above this (the year 5138) are milliseconds.
MILLIS_ABOVE = 10**11


def parse_time(text: object) -> datetime | None:
    """The instant ``text`` names, or None when it names none that can be read."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        number = float(text)
        return datetime.fromtimestamp(number / 1000 if number > MILLIS_ABOVE else number, UTC)
    try:
        moment = datetime.fromisoformat(text)  # also "YYYY-MM-DD HH:MM:SS" and a trailing Z (Python 3.11)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def span(start: object, end: object) -> float | None:
    """Seconds from ``start`` to ``end``; None if either cannot be read or the end comes first."""
    began, ended = parse_time(start), parse_time(end)
    if began is None or ended is None or ended < began:
        return None
    return (ended - began).total_seconds()


def unreadable(*texts: object) -> list[str]:
    """The given (non-empty) times that name no instant this module can read."""
    return [str(text) for text in texts if text not in (None, "") and parse_time(text) is None]
