"""When a workspace is next due: ``every`` after a success, a capped exponential backoff after
failures (a check failed is news, not a fault: no backoff), and a fixed jitter per workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from labform.engine.reconcile.records import Records, backoff, jitter
from tests.functional import test_reconcile_kit as kit

reconcile_db = kit.reconcile_db  # the kit's fixture, used here


def test_backoff_doubles_per_failure_and_is_capped():
    assert [backoff(n, 30.0, 300.0) for n in (1, 2, 3, 4, 5, 6)] == [30.0, 60.0, 120.0, 240.0, 300.0, 300.0]


def test_jitter_is_fixed_per_workspace_and_within_a_tenth_of_the_period():
    shifts = [jitter(f"ws-{n}", 300.0) for n in range(200)]
    assert shifts == [jitter(f"ws-{n}", 300.0) for n in range(200)]
    assert all(0 <= s < 30.0 for s in shifts) and len(set(shifts)) == 200


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
