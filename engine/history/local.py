"""Test history in an SQLite file beside the local state (``<state>.history.sqlite3``).

SQLite rather than JSON lines: two local applies finishing at once append
under SQLite's lock instead of interleaving lines, a window (``--since``) is
read through an index instead of parsing every line ever written, and the
figures are the same SQL as PostgreSQL's (store.py). It is in the standard
library. Triggers refuse UPDATE and DELETE: the history is only added to.
"""

from __future__ import annotations

import itertools
import sqlite3
import statistics
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labform.engine.history.errors import HistoryError
from labform.engine.history.store import KEYS_SCHEMA, TABLE, TIMED, HistoryStore

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id          INTEGER PRIMARY KEY,
    workspace   TEXT NOT NULL,
    cloud       TEXT NOT NULL,
    test_id     TEXT NOT NULL,
    device      TEXT NOT NULL,
    commit_sha  TEXT,
    run_id      TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('ci', 'local')),
    attempt     INTEGER NOT NULL CHECK (attempt >= 1),
    outcome     TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'error', 'skipped')),
    duration    REAL CHECK (duration >= 0),
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {TABLE}_window ON {TABLE} (workspace, recorded_at);
CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
BEGIN SELECT RAISE(ABORT, 'test history is only ever added to'); END;
CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
BEGIN SELECT RAISE(ABORT, 'test history is only ever added to'); END;
"""


def history_path(state: Path) -> Path:
    """The history file of a local state file: beside it, named after it (ignored by git as state is)."""
    return state.with_name(state.name + ".history.sqlite3")


class LocalHistory(HistoryStore):
    workspace = "default"

    def __init__(self, path: Path, encryption: Target | None = None):
        super().__init__(encryption)
        self.path = path

    def describe(self) -> str:
        return str(self.path)

    def _present(self) -> bool:
        return self.path.exists()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as conn:
                conn.executescript(SCHEMA)
                if not any(column[1] == "sealed" for column in conn.execute(f"PRAGMA table_info({TABLE})")):
                    conn.execute(f"ALTER TABLE {TABLE} ADD COLUMN sealed TEXT")
                conn.executescript(KEYS_SCHEMA)  # after ``sealed`` is added to an older file
                with conn:  # one transaction: committed on success, rolled back on error
                    yield conn
        except sqlite3.Error as exc:
            raise HistoryError(f"test history {self.path}: {exc}") from None

    def _run(self, *queries: tuple[str, Sequence[Any]]) -> list[list[tuple[Any, ...]]]:
        with self._connection() as conn:
            return [conn.execute(sql, params).fetchall() for sql, params in queries]

    def _execute(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._connection() as conn:
            conn.executemany(sql, rows)

    def _moment(self, moment: datetime) -> str:
        """UTC ISO text, one width for every row, so text order is time order."""
        return moment.astimezone(UTC).isoformat(timespec="microseconds")

    MEDIANS = f"SELECT test_id, duration {TIMED} ORDER BY test_id"  # SQLite has no median: Python takes it

    def _medians(self, rows: list[tuple[Any, ...]]) -> dict[str, float]:
        return {
            test: statistics.median(duration for _, duration in group)
            for test, group in itertools.groupby(rows, key=lambda row: row[0])
        }
