"""Waiting on asynchronous cloud work (runs, uploads being processed): a pace a real cloud can bear.

Reads start quick and back off (x1.5) to the ``poll`` interval, so a short job
is noticed at once; a wait that goes on slows down further with the time
waited (``SLOWDOWN``: a run 5 minutes old is read every 15 s, at most 4 reads
a minute, one 20 minutes old once a minute), and every pause carries up to
20% jitter so waits started together drift apart. Progress is reported only
when it changes.

Every wait on the runs of one cloud in a command reads through that cloud's
``StatusBoard``: runs one listing can answer (a project's runs) share each
read, a read younger than the cloud's minimum interval answers a wait
instead of a new one, and reads of the cloud are spaced at least that
interval apart. The HTTP layer honours a 429's Retry-After on every read.

    final = wait_for(lambda: client.run(id), done=lambda r: r["state"] == "FINISHED",
                     timeout=1800, poll=10, describe=lambda r: r["state"], progress=print)
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Callable, Hashable
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, WithJsonSchema

from labform.providers.errors import LabformError, NotFoundError, ProviderError

T = TypeVar("T")
FIRST_POLL = 0.25
BACKOFF = 1.5
# A wait pauses at least this share of the time it has waited so far, up to LONGEST_PAUSE.
SLOWDOWN = 0.05
LONGEST_PAUSE = 60.0
JITTER = 0.2
# The least time between two status reads of one cloud, unless its run type says otherwise.
STATUS_INTERVAL = 0.5

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


# What parse_duration reads besides a number, as JSON Schema: amounts with units (250ms, 10s, 30m, 1h30m).
DURATION_TEXT = {
    "type": "string",
    "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h)?|(\d+(\.\d+)?(ms|s|m|h))+)\s*$",
    "description": "A duration: 10s, 30m, 1h30m, 250ms.",
}
_DurationText = Annotated[str, WithJsonSchema(DURATION_TEXT)]
# Seconds; a plan may write a number or a duration text, and the schema says both. A bound is
# part of the type, so the schema's number carries it too (one given to the field would be lost there).
Duration = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=float | _DurationText)]
PositiveDuration = Annotated[
    float,
    Field(gt=0),
    BeforeValidator(parse_duration, json_schema_input_type=Annotated[float, Field(gt=0)] | _DurationText),
]
NonNegativeDuration = Annotated[
    float,
    Field(ge=0),
    BeforeValidator(parse_duration, json_schema_input_type=Annotated[float, Field(ge=0)] | _DurationText),
]


class WaitTimeout(LabformError):
    """A wait gave up (its timeout, or an interrupted apply); ``last`` is the last answer read."""

    # ``last`` is whatever the wait's check returned; the catching caller knows its type.
    def __init__(self, last: Any, waited: float, interrupted: bool = False):
        self.last = last
        self.waited = waited
        # Stopped by an interrupted apply rather than by the timeout.
        self.interrupted = interrupted
        super().__init__(f"{'stopped waiting' if interrupted else 'still not finished'} after {waited:.0f}s")


def _now() -> float:
    return time.monotonic()


def _pause(seconds: float, stop: threading.Event | None) -> None:
    """Sleep, or less if ``stop`` is set meanwhile."""
    if stop is None:
        time.sleep(seconds)
    else:
        stop.wait(seconds)


def next_pause(previous: float, waited: float, poll: float) -> float:
    """The pause before the next read: the last one x1.5 up to ``poll``, never less than SLOWDOWN of
    the time waited so far (up to LONGEST_PAUSE, or ``poll`` if longer), plus up to JITTER more."""
    backoff = min(previous * BACKOFF, poll)
    slowed = min(waited * SLOWDOWN, max(poll, LONGEST_PAUSE))
    return max(backoff, slowed) * (1 + random.uniform(0, JITTER))


def wait_for(
    check: Callable[[], T],
    *,
    done: Callable[[T], bool],
    timeout: float,
    poll: float,
    describe: Callable[[T], str] = str,
    progress: Callable[[str], None] = lambda message: None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
    read_again_on_error: bool = False,
) -> T:
    """Call ``check`` until ``done``; raise WaitTimeout (with the last answer) after ``timeout``,
    or as soon as ``stop`` is set (an interrupted apply stops waiting, the work goes on remotely)."""
    clock = clock or _now
    sleep = sleep or (lambda seconds: _pause(seconds, stop))
    started = clock()
    interval = min(FIRST_POLL, poll)
    said = None
    current: Any = None
    while True:
        try:
            current = check()
        except ProviderError as error:
            # With ``read_again_on_error`` (a run's status), one read that failed after the HTTP
            # layer's retries does not end a wait of minutes: read again at the next interval,
            # until the timeout. A gone object, or an answer that is the result (apptest's codes), ends it.
            if not read_again_on_error or isinstance(error, NotFoundError) or clock() - started >= timeout:
                raise
            progress(f"{error}; reading again")
            sleep(min(interval, max(0.0, timeout - (clock() - started))))
            interval = next_pause(interval, clock() - started, poll)
            continue
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
        interval = next_pause(interval, clock() - started, poll)


class _Scope:
    """One listing's status reads: who waits on it, and the last answer."""

    def __init__(self) -> None:
        self.members: dict[Hashable, float] = {}  # member -> when it last asked
        self.covered: set[Hashable] = set()  # the members the last read was made for
        self.answer: dict[Hashable, Any] = {}
        self.at = -math.inf
        self.reading = False


class StatusBoard:
    """One command's status reads of one cloud, shared by every wait on it.

    ``read(scope, member, fetch, interval)`` answers ``member``'s status from a read of
    ``scope`` (``fetch(members)`` reads every member waiting on it: ``{member: status}``,
    a member it does not list answers None). A read is shared: one in flight is waited
    for, and one made since the member last asked answers it if it is younger than half
    the time since then (or than ``interval``), so the waits on one listing read it about
    as often as one of them alone would. Reads of the cloud start at least ``interval``
    apart, whichever scope they read. A member that has not asked for FORGET_AFTER
    seconds (its wait ended) is no longer read for.
    """

    FORGET_AFTER = 2 * LONGEST_PAUSE * (1 + JITTER)

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._scopes: dict[Hashable, _Scope] = {}
        self._next_read = -math.inf

    def read(
        self,
        scope: Hashable,
        member: Hashable,
        fetch: Callable[[set[Hashable]], dict[Hashable, T]],
        interval: float = STATUS_INTERVAL,
        stop: threading.Event | None = None,
    ) -> T | None:
        with self._changed:
            entry = self._scopes.setdefault(scope, _Scope())
            asked, last = _now(), entry.members.get(member, -math.inf)
            entry.members[member] = asked
            while True:
                now = _now()
                if member in entry.covered and entry.at > last and now - entry.at <= max(interval, (now - last) / 2):
                    return entry.answer.get(member)
                if not entry.reading:
                    break
                self._changed.wait()
            entry.members = {m: at for m, at in entry.members.items() if now - at <= self.FORGET_AFTER}
            entry.reading, members = True, set(entry.members)
            start = max(now, self._next_read)
            self._next_read = start + interval
        try:
            if start > now:
                _pause(start - now, stop)
            answer = fetch(members)
            with self._changed:
                entry.answer, entry.covered, entry.at = answer, members, _now()
        finally:
            with self._changed:
                entry.reading = False
                self._changed.notify_all()
        return answer.get(member)
