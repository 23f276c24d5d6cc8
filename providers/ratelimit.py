"""Requests a second per cloud endpoint, for the whole process: a token bucket each.

A reconcile worker runs many workspaces' plans and applies one after another, each with
its own threads; without a limit, a thousand workspaces falling due together would burst
one cloud's API. The limit is the process's, set once (``configure``, from the reconcile
config's ``rate_limits:``), and every HTTP attempt any client makes takes a token from
the bucket of its cloud and base URL (providers/http.py), retries included. A cloud with
no limit configured is not slowed at all, which is what a single CLI command gets.

    configure({"bitbar": Rate(per_second=10, burst=10)})
    take("bitbar", "https://cloud.bitbar.com")   # returns at once, or once a token is free
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int


class TokenBucket:
    """``burst`` tokens, refilled at ``per_second``; a taker waits for its own token, in turn."""

    def __init__(
        self,
        rate: Rate,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self._tokens = float(rate.burst)
        self._at = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """One token, waiting for it if there is none; the seconds waited."""
        with self._lock:
            now = self.clock()
            self._tokens = min(float(self.rate.burst), self._tokens + (now - self._at) * self.rate.per_second)
            self._at = now
            self._tokens -= 1.0  # reserved now: a later taker waits behind this one
            wait = -self._tokens / self.rate.per_second if self._tokens < 0 else 0.0
        if wait > 0:
            self.sleep(wait)
        return wait


_rates: dict[str, Rate] = {}
_buckets: dict[tuple[str, str], TokenBucket] = {}
_lock = threading.Lock()


def configure(rates: dict[str, Rate]) -> None:
    """The process's limits, by cloud name (replacing any set before, and their buckets)."""
    with _lock:
        _rates.clear()
        _rates.update(rates)
        _buckets.clear()


def take(cloud: str, endpoint: str) -> float:
    """A token for one request to ``endpoint`` of ``cloud`` (at once when it has no limit); the seconds waited."""
    rate = _rates.get(cloud)
    if rate is None:
        return 0.0
    with _lock:
        bucket = _buckets.get((cloud, endpoint))
        if bucket is None:
            bucket = _buckets[(cloud, endpoint)] = TokenBucket(rate)
    return bucket.take()
