"""The history interface: add rows, read tallies and typical durations; nothing is ever changed or removed.

Both stores (local.py, postgres.py) are SQL databases holding one table,
``labform_test_results``; the tally query is the same text for both (written
with ``?`` placeholders, which the PostgreSQL store turns into psycopg's).
Only the median differs: PostgreSQL computes it, SQLite has no such function.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.history.results import Result, Tally

TABLE = "labform_test_results"

# Rows in the window, CI rows alone unless the last parameter is true.
WINDOW = f"FROM {TABLE} WHERE workspace = ? AND recorded_at >= ? AND (source = 'ci' OR ?)"

TALLIES = f"""
SELECT test_id, cloud, device, COALESCE(commit_sha, 'run:' || run_id) AS code,
       SUM(CASE WHEN outcome = 'passed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome IN ('failed', 'error') THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'skipped' THEN 1 ELSE 0 END)
{WINDOW}
GROUP BY test_id, cloud, device, code
"""

INSERT = f"""
INSERT INTO {TABLE} (workspace, cloud, test_id, device, commit_sha, run_id, source, attempt, outcome, duration,
                     recorded_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


class HistoryStore(ABC):
    """Where test results are kept: ``add`` rows, then ask for ``tallies`` and ``medians`` over a window.

    ``workspace`` is the one the store's location names (a PostgreSQL URL's
    ``?workspace=``; "default" for a local file): what the CLI records into.
    """

    workspace: str

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def _run(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _insert(self, rows: list[tuple[Any, ...]]) -> None: ...

    @abstractmethod
    def medians(self, workspace: str, since: datetime, include_local: bool = False) -> dict[str, float]:
        """Each test's median duration over its attempts that ran (not skipped) and have one."""

    def add(self, results: Sequence[Result], recorded_at: datetime) -> None:
        """Append ``results`` in one transaction: all of them or none."""
        self._insert(
            [
                (r.workspace, r.cloud, r.test_id, r.device, r.commit, r.run_id, r.source, r.attempt, r.outcome)
                + (r.duration, self._moment(recorded_at))
                for r in results
            ]
        )

    def tallies(self, workspace: str, since: datetime, include_local: bool = False) -> list[Tally]:
        """Per test, cloud, device and commit: how many attempts passed, failed and were skipped."""
        rows = self._run(TALLIES, (workspace, self._moment(since), include_local))
        return [Tally(t, c, d, code, int(p), int(f), int(s)) for t, c, d, code, p, f, s in rows]

    def _moment(self, moment: datetime) -> Any:
        """A moment as the database compares it."""
        return moment
