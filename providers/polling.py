"""Waiting on asynchronous cloud work (runs, uploads being processed) with backoff.

Polls start quick and slow down to the configured interval, so a short job
is noticed at once and a long one does not hammer the API. Progress is
reported only when it changes.

    final = wait_for(lambda: client.run(id), done=lambda r: r["state"] == "FINISHED",
                     timeout=1800, poll=10, describe=lambda r: r["state"], progress=print)
"""

from __future__ import annotations

import re
import threading
import time
from typing import Annotated, Callable, TypeVar

from pydantic import BeforeValidator

T = TypeVar("T")
FIRST_POLL = 0.25
BACKOFF = 1.5

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h)?\s*)+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)?")


def parse_duration(value: object) -> float:
    """'30m', '10s', '1.5h', '1h30m', '250ms' or a number of seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    if not _DURATION.match(text):
        raise ValueError(f"'{value}' is not a duration (use e.g. 30s, 10m, 1h30m)")
    return sum(float(number) * _UNITS[unit or "s"] for number, unit in _PART.findall(text))


Duration = Annotated[float, BeforeValidator(parse_duration)]


class WaitTimeout(Exception):
    def __init__(self, last: object, waited: float, interrupted: bool = False):
        self.last = last
        self.waited = waited
        # Stopped by an interrupted apply rather than by the timeout.
        self.interrupted = interrupted
        super().__init__(f"{'stopped waiting' if interrupted else 'still not finished'} after {waited:.0f}s")


def wait_for(
    check: Callable[[], T],
    *,
    done: Callable[[T], bool],
    timeout: float,
    poll: float,
    describe: Callable[[T], str] = str,
    progress: Callable[[str], None] = lambda message: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    stop: threading.Event | None = None,
) -> T:
    """Call ``check`` until ``done``; raise WaitTimeout (with the last answer) after ``timeout``,
    or as soon as ``stop`` is set (an interrupted apply stops waiting, the work goes on remotely)."""
    if stop is not None:
        sleep = stop.wait
    started = clock()
    interval = min(FIRST_POLL, poll)
    said = None
    while True:
        current = check()
        message = describe(current)
        if message != said:
            progress(message)
            said = message
        if done(current):
            return current
        waited = clock() - started
        if stop is not None and stop.is_set():
            raise WaitTimeout(current, waited, interrupted=True)
        if waited >= timeout:
            raise WaitTimeout(current, waited)
        sleep(min(interval, max(0.0, timeout - waited)))
        interval = min(interval * BACKOFF, poll)
