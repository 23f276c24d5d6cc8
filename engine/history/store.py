"""The history interface: add rows, read each test's figures and typical duration; nothing is changed or removed.

Both stores (local.py, postgres.py) are SQL databases holding one table,
``labform_test_results``; the figures query is the same text for both (written
with ``?`` placeholders, which the PostgreSQL store turns into psycopg's), and
it answers one row per test: over 100,000 results the database does the
counting rather than sending a row per test, device and commit to Python.
Only the median differs: PostgreSQL computes it, SQLite has no such function.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from labform.engine.history.figures import Figures
from labform.engine.history.results import Result

TABLE = "labform_test_results"

# Rows in the window, CI rows alone unless the last parameter is true.
WINDOW = f"FROM {TABLE} WHERE workspace = ? AND recorded_at >= ? AND (source = 'ci' OR ?)"

# Each test's figures (figures.py says what flaky and broken mean): attempts per cloud, device and commit
# (a run's id where the commit is not known), then per commit whether it flipped on some device or failed
# every attempt on one, then per test.
FIGURES = f"""
WITH attempts AS (
    SELECT test_id, cloud, device, COALESCE(commit_sha, 'run:' || run_id) AS code,
           SUM(CASE WHEN outcome = 'passed' THEN 1 ELSE 0 END) AS passed,
           SUM(CASE WHEN outcome IN ('failed', 'error') THEN 1 ELSE 0 END) AS failed,
           SUM(CASE WHEN outcome = 'skipped' THEN 1 ELSE 0 END) AS skipped
    {WINDOW}
    GROUP BY test_id, code, cloud, device  -- in the next grouping's order, so it needs no sort of its own
), commits AS (
    SELECT test_id, SUM(passed) AS passed, SUM(failed) AS failed, SUM(skipped) AS skipped,
           MAX(CASE WHEN passed > 0 AND failed > 0 THEN 1 ELSE 0 END) AS flipped,
           MAX(CASE WHEN passed = 0 AND failed > 0 THEN 1 ELSE 0 END) AS red
    FROM attempts GROUP BY test_id, code
)
SELECT test_id, SUM(passed), SUM(failed), SUM(skipped), SUM(CASE WHEN passed + failed > 0 THEN 1 ELSE 0 END),
       SUM(flipped), SUM(CASE WHEN flipped = 0 THEN red ELSE 0 END)
FROM commits GROUP BY test_id
"""
CLOUDS = f"SELECT DISTINCT test_id, cloud {WINDOW}"
# The attempts a typical duration is the median of: those that ran (not skipped) and report a time.
TIMED = f"{WINDOW} AND outcome <> 'skipped' AND duration IS NOT NULL"

INSERT = f"""
INSERT INTO {TABLE} (workspace, cloud, test_id, device, commit_sha, run_id, source, attempt, outcome, duration,
                     recorded_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


class HistoryStore(ABC):
    """Where test results are kept: ``add`` rows, then ask for ``figures`` and ``medians`` over a window.

    ``workspace`` is the one the store's location names (a PostgreSQL URL's
    ``?workspace=``; "default" for a local file): what the CLI records into.
    """

    workspace: str
    # (test_id, ...) rows that ``_medians`` makes each test's median duration of, over the TIMED attempts.
    MEDIANS: str

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def _run(self, *queries: tuple[str, Sequence[Any]]) -> list[list[tuple[Any, ...]]]:
        """Each query's rows, all read in one transaction."""

    @abstractmethod
    def _insert(self, rows: list[tuple[Any, ...]]) -> None: ...

    @abstractmethod
    def _medians(self, rows: list[tuple[Any, ...]]) -> dict[str, float]: ...

    def medians(self, workspace: str, since: datetime, include_local: bool = False) -> dict[str, float]:
        """Each test's median duration over its attempts that ran (not skipped) and have one."""
        [rows] = self._run((self.MEDIANS, (workspace, self._moment(since), include_local)))
        return self._medians(rows)

    def add(self, results: Sequence[Result], recorded_at: datetime) -> None:
        """Append ``results`` in one transaction: all of them or none (none given: the database is not opened)."""
        if not results:
            return
        self._insert(
            [
                (r.workspace, r.cloud, r.test_id, r.device, r.commit, r.run_id, r.source, r.attempt, r.outcome)
                + (r.duration, self._moment(recorded_at))
                for r in results
            ]
        )

    def figures(self, workspace: str, since: datetime, include_local: bool = False) -> dict[str, Figures]:
        """Every test's figures over the window: CI rows alone unless ``include_local``."""
        window = (workspace, self._moment(since), include_local)
        counted, clouds, timed = self._run((FIGURES, window), (CLOUDS, window), (self.MEDIANS, window))
        medians = self._medians(timed)
        found = {
            test: Figures(test, int(passed), int(failed), int(skipped), int(commits), int(flaky), int(broken))
            for test, passed, failed, skipped, commits, flaky, broken in counted
        }
        for test, figures in found.items():
            figures.median_duration = medians.get(test)
        for test, cloud in clouds:
            found[test].clouds.add(cloud)
        return found

    def _moment(self, moment: datetime) -> Any:
        """A moment as the database compares it."""
        return moment
