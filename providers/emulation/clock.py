"""Virtual time, so emulated work (runs, boots, jobs) can be waited for without waiting.

Tests freeze the clock (``speed=0``) and ``advance()`` it; the sandbox runs it
on wall time. Virtual second 0 is ``VIRTUAL_EPOCH``, so a frozen emulator
prints the same timestamps run after run.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

VIRTUAL_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class Clock:
    """Virtual time in seconds; ``speed`` scales real seconds, ``advance`` jumps.

    >>> clock = Clock(speed=0); clock.advance(30); clock.now() >= 30
    True
    """

    def __init__(self, speed: float = 1.0, start: float = 0.0):
        self.speed = speed
        self._offset = start
        self._real_start = time.monotonic()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._offset + (time.monotonic() - self._real_start) * self.speed

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


def virtual_datetime(seconds: float) -> datetime:
    """The instant a virtual time stands for, for timestamps in responses."""
    return VIRTUAL_EPOCH + timedelta(seconds=seconds)
