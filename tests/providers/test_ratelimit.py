"""The per-process token bucket every HTTP attempt takes from (providers/ratelimit.py): on a clock the
test moves, so the waits asserted are the bucket's arithmetic, not the machine's speed; and through a
real client against the Bitbar emulator, counted in the emulator's request log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labform.providers import ratelimit
from labform.providers.http import HttpClient
from labform.providers.ratelimit import Rate, TokenBucket
from tests.fixtures.clouds import RunningBitbar


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_burst_goes_at_once_then_one_token_per_interval():
    clock = Clock()
    bucket = TokenBucket(Rate(per_second=4, burst=2), clock, clock.sleep)
    assert [bucket.take() for _ in range(5)] == [0.0, 0.0, 0.25, 0.25, 0.25]
    clock.now += 10  # a quiet spell refills to the burst, no further
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.25]


def test_takers_that_do_not_sleep_queue_behind_each_other():
    clock = Clock()
    bucket = TokenBucket(Rate(per_second=2, burst=1), clock, lambda seconds: None)
    assert [bucket.take() for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]  # each reserved its own slot


@pytest.fixture
def limited() -> Iterator[None]:
    ratelimit.configure({"bitbar": Rate(per_second=5, burst=1)})
    yield
    ratelimit.configure({})


def test_each_endpoint_of_a_limited_cloud_has_a_bucket_of_its_own(limited):
    first = [ratelimit.take("bitbar", "http://a.example"), ratelimit.take("bitbar", "http://b.example")]
    assert first == [0.0, 0.0]  # two accounts' endpoints: one burst each
    assert ratelimit.take("perfecto", "http://a.example") == 0.0  # no limit configured: never waits
    assert ratelimit.take("bitbar", "http://a.example") > 0.0  # its burst is spent


def _busiest_second(starts: list[float]) -> int:
    return max(sum(1 for t in starts if first <= t < first + 1.0) for first in starts)


def test_a_limited_cloud_sees_at_most_its_rate_in_any_second(limited, bitbar: RunningBitbar):
    from labform.providers.bitbar.emulator import SANDBOX_API_KEY

    client = HttpClient("bitbar", bitbar.url, auth=(SANDBOX_API_KEY, ""))
    try:
        for _ in range(16):
            client.request("GET", "/api/v2/me", operation="read me")
    finally:
        client.close()
    starts = [r.started for r in bitbar.app.log.all() if r.path == "/api/v2/me"]
    assert len(starts) == 16
    assert _busiest_second(starts) <= 1 + 5  # in any second of the emulator's log: the burst, then five
