"""Sharding by recorded durations (engine/history/sharding.py): longest first, balanced, deterministic."""

from __future__ import annotations

import math
import random

import pytest

from labform.engine.history.errors import HistoryError
from labform.engine.history.sharding import DEFAULT_UNIT_SECONDS, clock, split, unit_durations


def test_longest_first_goes_to_the_shard_that_ends_soonest():
    """7,6 open the shards; 5 joins 6; 4 joins 7; 3 ties at 11 and goes to the first; 2 to the second."""
    known = {"a": 7.0, "b": 6.0, "c": 5.0, "d": 4.0, "e": 3.0, "f": 2.0}
    plan = split(list(known), known, shards=2)
    assert [(s.units, s.expected) for s in plan.shards] == [(("a", "d", "e"), 14.0), (("b", "c", "f"), 13.0)]
    assert plan.estimates.unknown == ()


def test_the_same_units_in_any_order_make_the_same_shards():
    rng = random.Random(7)
    known = {f"com.app.T{i}": float(rng.choice([1, 2, 3, 5])) for i in range(40)}  # many ties
    units = list(known)
    first = split(units, known, shards=3).shards
    rng.shuffle(units)
    assert split(units, known, shards=3).shards == first


def test_units_history_does_not_know_get_the_median_of_those_it_does():
    plan = split(["a", "b", "c", "new"], {"a": 1.0, "b": 10.0, "c": 4.0}, shards=2)
    assert plan.estimates.unknown == ("new",)
    assert plan.estimates.guess == 4.0 and plan.estimates.seconds["new"] == 4.0
    assert sorted(s.expected for s in plan.shards) == [9.0, 10.0]


def test_a_unit_is_the_sum_of_the_tests_it_covers():
    tests = {"com.app.Login.ok": 2.0, "com.app.Login.slow": 5.0, "com.app.Cart.add": 1.5, "com.other.X.y": 9.0}
    durations = unit_durations(["com.app.Login", "com.app", "com.other.X.y", "com.ap", "com.gone"], tests)
    assert durations == {"com.app.Login": 7.0, "com.app": 8.5, "com.other.X.y": 9.0}


def test_shards_with_no_history_and_no_shard_time_is_refused():
    with pytest.raises(HistoryError, match="no recorded duration for any of the 3 units.*give shard_time"):
        split(["a", "b", "c"], {}, shards=2)


def test_shard_time_makes_as_many_shards_as_the_time_needs():
    known = {f"u{i}": 60.0 for i in range(10)}  # 10 minutes in all
    assert len(split(list(known), known, shard_time=180).shards) == 4  # ceil(600 / 180)
    assert len(split(list(known), known, shards=3, shard_time=60).shards) == 3  # at most --shards
    unknown = split(["a", "b", "c"], {}, shard_time=DEFAULT_UNIT_SECONDS * 2)
    assert len(unknown.shards) == 2 and unknown.estimates.guess == DEFAULT_UNIT_SECONDS


def test_never_more_shards_than_units():
    assert len(split(["a", "b"], {"a": 1.0}, shards=5).shards) == 2


@pytest.mark.parametrize(
    ("units", "shards", "shard_time", "message"),
    [
        (["a"], 0, None, "shards must be at least 1, not 0"),
        (["a"], None, 0.0, "shard_time must be longer than 0s"),
        (["a"], None, None, "give shards"),
        (["a", "b", "a"], 2, None, "units listed twice: a"),
        ([], 2, None, "no units to shard"),
    ],
)
def test_bad_requests_say_what_is_wrong(units, shards, shard_time, message):
    with pytest.raises(HistoryError, match=message):
        split(units, {"a": 1.0, "b": 1.0}, shards, shard_time)


@pytest.mark.parametrize("seed", range(5))
def test_the_longest_shard_is_within_lpt_bound_of_the_best_possible(seed):
    """Graham's bound: LPT's longest shard is at most (4/3 - 1/3m) of the optimum, which is at least
    the larger of total/m and the longest unit."""
    rng = random.Random(seed)
    known = {f"t{i}": rng.lognormvariate(0, 1) for i in range(rng.randint(20, 200))}
    count = rng.randint(2, 8)
    plan = split(list(known), known, shards=count)
    lower = max(sum(known.values()) / count, max(known.values()))
    assert max(s.expected for s in plan.shards) <= (4 / 3 - 1 / (3 * count)) * lower + 1e-9
    assert sorted(u for s in plan.shards for u in s.units) == sorted(known)
    assert math.isclose(sum(s.expected for s in plan.shards), sum(known.values()))


def test_the_text_names_every_shard_and_its_expected_time():
    text = split(["a", "b", "new"], {"a": 90.0, "b": 30.0}, shards=2).text()
    assert text.splitlines()[0] == "2 shards of 3 units, 3m00s in all; the longest is expected to take 1m30s."
    assert "No recorded duration for 1 unit, counted as 1m00s each: new" in text
    assert "shard 1: expected 1m30s, 1 unit\n  a" in text and "shard 2: expected 1m30s, 2 units" in text
    assert [clock(6.25), clock(3725)] == ["6.2s", "1h02m"]
