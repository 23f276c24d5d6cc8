"""``--since 30d``: how far back the figures look, in weeks, days, hours or minutes.

Its own small grammar rather than the run durations' parser (providers/polling.py),
which has no days and would load pydantic into a command that needs none of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from labform.engine.history.errors import HistoryError

_PERIOD = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(w|d|h|m)\s*$")
_UNIT = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def since(text: str, now: datetime | None = None) -> datetime:
    """The moment ``text`` ago: ``2w``, ``30d``, ``12h``, ``90m``."""
    found = _PERIOD.match(text)
    if not found:
        raise HistoryError(f"'{text}' is not a period (use e.g. 30d, 12h, 90m)")
    return (now or datetime.now(UTC)) - float(found.group(1)) * _UNIT[found.group(2)]
