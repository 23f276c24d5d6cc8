"""``--since 30d``: how far back the figures look, in days as well as the durations runs take (10m, 12h)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from engine.history.errors import HistoryError
from providers.polling import parse_duration

_DAYS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*d\s*$")


def since(text: str, now: datetime | None = None) -> datetime:
    """The moment ``text`` ago: ``30d``, ``12h``, ``90m`` (a bare number is seconds)."""
    days = _DAYS.match(text)
    try:
        seconds = float(days.group(1)) * 86400 if days else parse_duration(text)
    except ValueError:
        raise HistoryError(f"'{text}' is not a period (use e.g. 30d, 12h, 90m)") from None
    return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
