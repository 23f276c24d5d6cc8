"""When a workspace is next due: ``every`` after a success, a capped exponential backoff after
failures (a check failed is news, not a fault: no backoff), and a fixed jitter per workspace."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from labform.engine.reconcile.records import Records, backoff, first_due, jitter
from tests.functional import test_reconcile_kit as kit

reconcile_db = kit.reconcile_db  # the kit's fixture, used here


def test_backoff_doubles_per_failure_and_is_capped():
    assert [backoff(n, 30.0, 300.0) for n in (1, 2, 3, 4, 5, 6)] == [30.0, 60.0, 120.0, 240.0, 300.0, 300.0]


def test_jitter_is_fixed_per_workspace_and_within_a_tenth_of_the_period():
    shifts = [jitter(f"ws-{n}", 300.0) for n in range(200)]
    assert shifts == [jitter(f"ws-{n}", 300.0) for n in range(200)]
    assert all(0 <= s < 30.0 for s in shifts) and len(set(shifts)) == 200


def test_a_fresh_fleet_is_first_reconciled_spread_over_the_window_each_at_a_fixed_moment():
    now = datetime(2026, 12, 7, 12, 0, 7, tzinfo=UTC)
    names = [f"ws-{n}" for n in range(1000)]
    first = {name: first_due(name, 300.0, 30.0, now) for name in names}
    # Within one window of 30 s from now (a second's grace), and at most a few at any one second.
    assert all(now - timedelta(seconds=1) <= at < now + timedelta(seconds=30) for at in first.values())
    per_second = Counter(int(at.timestamp()) for at in first.values())
    assert max(per_second.values()) <= 60 and len(per_second) >= 29
    # Every tick computes the same moment until it comes, so the ticker queues it once, at that moment.
    for name, at in list(first.items())[:50]:
        later = min(at, now + timedelta(seconds=5))
        assert first_due(name, 300.0, 30.0, later) == at
    # The window is a tenth of every at most, and 0s means at once.
    assert all(first_due(name, 60.0, 30.0, now) < now + timedelta(seconds=6) for name in names)
    assert first_due("ws-1", 300.0, 0.0, now) == now


def _finish(records: Records, workspace: str, outcome: str) -> datetime:
    item = records.start(workspace, None)
    item.outcome = outcome
    records.finish(item)
    assert item.finished_at is not None
    return item.finished_at


def test_failures_back_off_and_a_success_resets_it(reconcile_db):
    records = Records(reconcile_db)
    now = datetime.now(UTC)
    schedule = {"never": 600.0, "failing": 600.0, "checks": 600.0}
    assert records.due(schedule, 30.0, 3600.0, now)["never"] == now
    _finish(records, "failing", "ok")
    _finish(records, "failing", "failed")
    _finish(records, "failing", "failed")
    last = _finish(records, "failing", "failed")
    _finish(records, "checks", "failed")
    checked = _finish(records, "checks", "check failed")
    due = records.due(schedule, 30.0, 3600.0, now)
    assert due["failing"] == last + timedelta(seconds=120.0 + jitter("failing", 600.0))
    assert due["checks"] == checked + timedelta(seconds=600.0 + jitter("checks", 600.0))
