"""What keeps labform fast at scale, asserted as counts, never as times (bench/run_all.py times it).

- the loader's fast way (plain files, libyaml) gives exactly what the round-trip way gives;
- a command reads each listing once, at most --parallelism reads at once, however they nest;
- the run scheduler shares one read among the waits it can answer and spaces the reads of a cloud.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from labform.engine import loader
from labform.engine.loader import Positions
from labform.providers import polling
from labform.providers.polling import StatusBoard, next_pause
from labform.providers.reads import Fanout, Listings

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "plans").rglob("*.yaml"))

# Plain YAML in the shapes plans take, each read both ways.
PLAIN = [
    "providers:\n  bitbar: {endpoint: 'https://x', api_key: \"k\"}\n",
    "resources:\n  a.b:\n    devices: [1, 2, 3]\n    name: x # a comment\n    flag: true\n    off: ~\n",
    "resources:\n  a.b:\n    list:\n      - name: one\n        size: 1\n      - [1, {k: v}]\n      -\n      - ''\n",
    'variables:\n  text: |\n    two\n    lines\n  folded: >-\n    one\n    line\n  quoted: "tab\\there"\n',
    "variables:\n  numbers: [0777, 0o17, 0x1F, 1_000, +1, -2, .5, 1e3, .inf, -.inf, .nan]\n  words: [yes, no, on, off, null, Null, TRUE]\n",
    "variables:\n  when: 2001-12-14\n  at: 2001-12-14t21:59:43.10-05:00\n  version: 1.10\n  empty: {}\n  none: []\n",
    "---\nvariables:\n  unicode: ünïcødé ✓\n  'quoted key': 1\n  \"x y\": [a,b]\n...\n",
    "variables:\r\n  crlf: yes\r\n  more: [1,\r\n    2]\r\n",
    "# only a comment\n",
    "",
    "variables:\n  a: x\n  nested:\n    deeper:\n      - - 1\n        - 2\n      - k: v\n",
]
# What the fast way leaves to the round-trip loader: tags, anchors and aliases, merge keys,
# directives, keys that are not strings, duplicates, mistakes.
NOT_PLAIN = [
    "variables:\n  a: &x 1\n  b: *x\n",
    "variables:\n  a: !!str 1\n",
    "variables:\n  base: {k: 1}\n  <<: {m: 2}\n",
    "%YAML 1.2\n---\nvariables: {}\n",
    "variables:\n  1: one\n",
    "variables:\n  a: 1\n  a: 2\n",
    "variables:\n  a: [unclosed\n",
    "- a list\n",
    "variables:\n  big: " + "9" * 5000 + "\n",
    "variables:\n  v: " + "[" * 60 + "]" * 60 + "\n",
]


def both_ways(text: str) -> tuple[tuple, tuple]:
    """(values, positions) read the fast way and the round-trip way."""
    fast, slow = Positions(), Positions()
    fast_values = loader._plain_document(text, "main.yaml", fast)
    document = loader._parse(text, "main.yaml")
    slow_values = None if document is None else loader._record(document, (), "main.yaml", slow)
    return (fast_values, fast.locations), (slow_values, slow.locations)


def same_types(fast, slow) -> bool:
    """The same values of the same types (a str subclass the round trip keeps for a block scalar is a str)."""
    if isinstance(slow, dict):
        return type(fast) is dict and fast.keys() == slow.keys() and all(same_types(fast[k], slow[k]) for k in slow)
    if isinstance(slow, list):
        return type(fast) is list and len(fast) == len(slow) and all(map(same_types, fast, slow))
    if isinstance(slow, str):
        return isinstance(fast, str) and fast == slow
    if slow != slow:  # nan
        return fast != fast and type(fast) is type(slow)
    return type(fast) is type(slow) and fast == slow


@pytest.mark.parametrize(
    "text",
    PLAIN + [path.read_text() for path in SHIPPED],
    ids=[f"plain{i}" for i in range(len(PLAIN))] + [p.parent.name for p in SHIPPED],
)
def test_a_plain_file_reads_the_fast_way_exactly_as_the_round_trip_way(text):
    (fast_values, fast_positions), (slow_values, slow_positions) = both_ways(text)
    assert same_types(fast_values, slow_values)
    assert fast_positions == slow_positions


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_what_is_not_plain_is_left_to_the_round_trip_loader(text):
    with pytest.raises(loader._NotPlain):
        loader._plain_document(text, "main.yaml", Positions())


@pytest.mark.parametrize("levels", range(loader.MAX_NESTING - 3, loader.MAX_NESTING + 3))
def test_the_fast_way_keeps_the_nesting_bound_exactly(levels):
    """At the bound, the fast way takes what the bounded composer takes and gives up on the rest."""
    text = "variables:\n  v: " + "[" * levels + "]" * levels + "\n"
    try:
        loader._parse(text, "main.yaml")
        accepted = True
    except loader.ConfigError:
        accepted = False
    try:
        loader._plain_document(text, "main.yaml", Positions())
        fast = True
    except loader._NotPlain:
        fast = False
    assert fast == accepted


def test_the_fast_way_keeps_the_value_bound_exactly(monkeypatch):
    """Values are counted as the bounded composer counts them (keys too): one over, and the fast way gives up."""
    text = "variables:\n" + "".join(f"  k{i}: [1, 2]\n" for i in range(50))
    fast = loader._PlainWalk("main.yaml", Positions(), loader._SCALARS.constructor)
    fast.value(loader._PLAIN_COMPOSER.compose(text), (), 1)
    monkeypatch.setattr(loader, "MAX_PLAN_VALUES", fast.values)
    loader._plain_document(text, "main.yaml", Positions())
    loader._parse(text, "main.yaml")
    monkeypatch.setattr(loader, "MAX_PLAN_VALUES", fast.values - 1)
    with pytest.raises(loader._NotPlain):
        loader._plain_document(text, "main.yaml", Positions())
    with pytest.raises(loader.ConfigError, match="values"):
        loader._parse(text, "main.yaml")


def test_a_shipped_plan_takes_the_fast_way():
    for path in SHIPPED:
        loader._plain_document(path.read_text(), path.name, Positions())  # no _NotPlain


def test_a_file_too_deep_for_libyaml_never_reaches_it(monkeypatch):
    """libyaml's composer recurses in C: a file that may nest past its depth is not given to it."""
    composed = []
    monkeypatch.setattr(loader._PLAIN_COMPOSER, "compose", lambda text: composed.append(text))
    for text in ("v: " + "[" * 500 + "]" * 500, "v:\n" + "- " * 500 + "x\n", "v:\n" + " " * 500 + "x: 1\n"):
        with pytest.raises(loader._NotPlain):
            loader._plain_document(text, "main.yaml", Positions())
    assert composed == []


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False), st.text(max_size=12)
)
documents = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
        max_leaves=12,
    ),
    max_size=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, flow=st.booleans())
def test_any_plain_document_reads_the_same_both_ways(document, flow):
    stream = io.StringIO()
    writer = YAML(typ="safe", pure=True)
    writer.default_flow_style = flow
    writer.dump({"variables": document}, stream)
    try:
        (fast_values, fast_positions), (slow_values, slow_positions) = both_ways(stream.getvalue())
    except loader._NotPlain:
        return  # an anchor-like or tag-like character in a string, say: the round trip reads it
    assert same_types(fast_values, slow_values)
    assert fast_positions == slow_positions


# --- one command's reads (providers/reads.py) --------------------------------------
class Gauge:
    """How many calls run at once, at most."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def test_nested_fan_outs_finish_and_never_pass_their_width():
    """Scopes, their pages and each item's sub-read nest three deep on a fan-out two wide."""
    fanout, gauge = Fanout(2), Gauge()

    def leaf(n: int) -> int:
        with gauge:
            time.sleep(0.002)
        return n

    def page(n: int) -> list[int]:
        return fanout.map(leaf, range(n, n + 3))

    def scope(n: int) -> list[list[int]]:
        return fanout.map(page, range(n, n + 4))

    assert fanout.map(scope, range(5)) == [[list(range(s + p, s + p + 3)) for p in range(4)] for s in range(5)]
    assert gauge.most == 2


def test_a_failed_call_is_raised_once_the_batch_ended():
    ran = []

    def call(n: int) -> int:
        ran.append(n)
        if n == 1:
            raise ValueError("page 1")
        return n

    with pytest.raises(ValueError, match="page 1"):
        Fanout(3).map(call, range(6))
    assert sorted(ran) == list(range(6))


def test_a_listing_is_read_once_per_key_however_many_ask_at_once():
    listings, reads = Listings(Fanout(8)), []

    def read(key: str) -> list[str]:
        reads.append(key)
        time.sleep(0.01)
        return [key]

    asked = listings.fanout.map(lambda key: listings.get(key, lambda: read(key)), ["a", "b"] * 8)
    assert asked == [["a"], ["b"]] * 8
    assert sorted(reads) == ["a", "b"]


def test_a_fresh_view_reads_again_and_keeps_what_it_read():
    listings, answers = Listings(), iter([["old"], ["new"]])
    assert listings.get("k", lambda: next(answers)) == ["old"]
    assert listings.fresh().get("k", lambda: next(answers)) == ["new"]
    assert listings.get("k", lambda: pytest.fail("read a third time")) == ["new"]


def test_a_failed_listing_is_not_kept():
    listings = Listings()
    with pytest.raises(OSError):
        listings.get("k", lambda: (_ for _ in ()).throw(OSError("down")))
    assert listings.get("k", lambda: ["up"]) == ["up"]


# --- waiting on runs (providers/polling.py) ---------------------------------------------
def test_a_wait_of_five_minutes_reads_at_most_four_times_a_minute():
    """The pause grows with the time waited, whatever poll asked for, and stops growing at a cap."""
    assert all(next_pause(10.0, 300.0, poll=10.0) >= 15.0 for _ in range(200))
    assert all(next_pause(60.0, 7200.0, poll=10.0) <= 60.0 * 1.2 for _ in range(200))
    assert next_pause(0.25, 1.0, poll=10.0) < 1.0  # a sandbox run is noticed at once


class FakeTime:
    """The polling module's clock, moved by its own pauses only."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.pauses: list[float] = []

    def now(self) -> float:
        return self.t

    def pause(self, seconds: float, stop: object) -> None:
        self.pauses.append(seconds)
        self.t += seconds


@pytest.fixture
def fake_time(monkeypatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(polling, "_now", fake.now)
    monkeypatch.setattr(polling, "_pause", fake.pause)
    return fake


def test_the_waits_on_one_listing_share_its_reads(fake_time):
    board, reads = StatusBoard(), []

    def fetch(members: set) -> dict:
        reads.append(sorted(members))
        return {m: f"{m} running" for m in members}

    assert board.read("project 7", "run 1", fetch) == "run 1 running"
    assert board.read("project 7", "run 2", fetch) == "run 2 running"  # not covered by the first read
    fake_time.t += 10
    assert board.read("project 7", "run 1", fetch) == "run 1 running"  # reads for both
    fake_time.t += 2
    assert board.read("project 7", "run 2", fetch) == "run 2 running"  # the read 2 s ago is news to it
    assert reads == [["run 1"], ["run 1", "run 2"], ["run 1", "run 2"]]


def test_the_reads_of_one_cloud_are_spaced_by_its_interval(fake_time):
    board = StatusBoard()
    for scope in range(4):
        board.read(("project", scope), "run", lambda members: {"run": "running"}, interval=0.5)
    assert fake_time.pauses == [0.5, 0.5, 0.5]
