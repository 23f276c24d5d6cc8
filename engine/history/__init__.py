"""Test history: every attempt of every test, kept across runs, commits and clouds; only ever added to.

HistoryStore (store.py)   add() / figures() / medians()
├── LocalHistory     an SQLite file beside the local state (local.py)
└── PostgresHistory  a table in the PostgreSQL state database (postgres.py)

results.py     Result (one attempt, one row) and Tally (attempts per test, device and commit)
ingest.py      record_junit: a JUnit file's attempts (Surefire's reruns too) into a store
provenance.py  the commit (CI environment, else git) and the source (ci or local) of a recording
figures.py     pass rate, median duration, flaky versus broken; FlakyReport for labform tests flaky
sharding.py    balanced shards by recorded durations (pure)
run_shards.py  a run's shards, split when its create is planned (kept in the plan and state)
period.py      --since's 30d / 12h / 90m
sealing.py     the history target: grouping values as keyed digests, test names sealed
"""

from __future__ import annotations

from pathlib import Path

from labform.engine.history.ingest import Recorded, record_junit
from labform.engine.history.store import HistoryStore

__all__ = ["HistoryStore", "Recorded", "open_history", "record_junit"]


def open_history(state_location: str, plan_path: Path | None = None) -> HistoryStore:
    """The history of a state: in its PostgreSQL database (``postgresql://...``), else beside its file;
    encrypted as the history target of the plan at ``plan_path`` (or LABFORM_ENCRYPTION alone) says."""
    from labform.engine.encryption.configured import encryption_config

    configured = encryption_config(plan_path)
    target = configured.history if configured else None
    if state_location.startswith(("postgres://", "postgresql://")):
        from labform.engine.history.postgres import PostgresHistory

        return PostgresHistory(state_location, target)
    from labform.engine.history.local import LocalHistory, history_path

    return LocalHistory(history_path(Path(state_location)), target)
