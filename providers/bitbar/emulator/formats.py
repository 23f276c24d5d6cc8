"""How Bitbar writes values: millisecond timestamps, ISO log times, readable sizes, slugs."""

from __future__ import annotations

import re

from labform.providers.emulation import virtual_datetime


def slug(text: str, separator: str = "") -> str:
    return separator.join(re.findall(r"[a-z0-9]+", text.lower())) or "app"


def millis(seconds: float) -> int:
    """A virtual time as the doc's timestamps: milliseconds since the epoch."""
    return int(virtual_datetime(seconds).timestamp() * 1000)


def iso(seconds: float) -> str:
    return virtual_datetime(seconds).isoformat(timespec="milliseconds")


def readable_size(size: int) -> str:
    """``4.9 MB``, ``82 KB``, ``2 MB``: one decimal, dropped when it is 0."""
    units = ("B", "KB", "MB", "GB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{value:.1f}".removesuffix(".0") + f" {units[unit]}"
