"""The history interface: add rows, read each test's figures and typical duration; nothing is changed or removed.

Both stores (local.py, postgres.py) are SQL databases holding one table,
``labform_test_results``; the figures query is the same text for both (written
with ``?`` placeholders, which the PostgreSQL store turns into psycopg's), and
it answers one row per test: over 100,000 results the database does the
counting rather than sending a row per test, device and commit to Python.
Only the median differs: PostgreSQL computes it, SQLite has no such function.
With the history target the same SQL runs over digests (sealing.py); the
names are opened after, one per test.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from labform.engine.encryption.errors import EncryptionError
from labform.engine.history.figures import Figures
from labform.engine.history.results import Result

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target
    from labform.engine.history.sealing import HistoryKey

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
# The same with the history target (sealing.py), and a sealed name per test and cloud: one scan, not two.
NAMED_CLOUDS = f"SELECT test_id, cloud, MIN(sealed) {WINDOW} GROUP BY test_id, cloud"
# The attempts a typical duration is the median of: those that ran (not skipped) and report a time.
TIMED = f"{WINDOW} AND outcome <> 'skipped' AND duration IS NOT NULL"

INSERT = f"""
INSERT INTO {TABLE} (workspace, cloud, test_id, device, commit_sha, run_id, source, attempt, outcome, duration,
                     recorded_at, sealed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# With the history target (sealing.py): the key each workspace's rows are under (provider, metadata, check),
KEYS_TABLE = "labform_test_history_keys"
# Both stores' keys table (store.py's SQL serves SQLite and PostgreSQL alike): a workspace's data key,
# wrapped by the key provider named, with its metadata (a pbkdf2 salt) and key check.
KEYS_SCHEMA = f"""
CREATE INDEX IF NOT EXISTS {TABLE}_plain ON {TABLE} (workspace) WHERE sealed IS NULL;
CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (
    workspace    text PRIMARY KEY,
    key_provider text NOT NULL,
    key_meta     text NOT NULL,
    key_check    text NOT NULL,
    wrapped      text NOT NULL
);
"""
KEY_READ = f"SELECT key_provider, key_meta, key_check, wrapped FROM {KEYS_TABLE} WHERE workspace = ?"
KEY_ADD = f"""
INSERT INTO {KEYS_TABLE} (workspace, key_provider, key_meta, key_check, wrapped) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (workspace) DO NOTHING
"""
# A rotation: the data key wrapped again, if no other runner re-wrapped it first.
KEY_REWRAP = f"""
UPDATE {KEYS_TABLE} SET key_provider = ?, key_meta = ?, key_check = ?, wrapped = ?
WHERE workspace = ? AND key_provider = ? AND key_check = ?
"""
# and whether the workspace holds plain rows.
PLAIN = f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE workspace = ? AND sealed IS NULL)"


class HistoryStore(ABC):
    """Where test results are kept: ``add`` rows, then ask for ``figures`` and ``medians`` over a window.

    ``workspace`` is the one the store's location names (a PostgreSQL URL's
    ``?workspace=``; "default" for a local file): what the CLI records into.
    ``encryption`` is the history target (None: plain rows); sealing.py says what it keeps.
    """

    workspace: str
    # (test_id, ...) rows that ``_medians`` makes each test's median duration of, over the TIMED attempts.
    MEDIANS: str

    def __init__(self, encryption: Target | None = None):
        self.encryption = encryption
        # By workspace, the key row and its key: a pbkdf2 key is derived (a command key program run) once per command.
        self._keys: dict[str, tuple[tuple[Any, ...], HistoryKey]] = {}

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def _run(self, *queries: tuple[str, Sequence[Any]]) -> list[list[tuple[Any, ...]]]:
        """Each query's rows, all read in one transaction."""

    @abstractmethod
    def _execute(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """``sql`` once per row, in one transaction."""

    @abstractmethod
    def _medians(self, rows: list[tuple[Any, ...]]) -> dict[str, float]: ...

    def medians(self, workspace: str, since: datetime, include_local: bool = False) -> dict[str, float]:
        """Each test's median duration over its attempts that ran (not skipped) and have one."""
        window = (workspace, self._moment(since), include_local)
        key = self._read_key(workspace)
        if key is None:
            [rows], names = self._run((self.MEDIANS, window)), {}
        else:
            rows, clouds = self._run((self.MEDIANS, window), (NAMED_CLOUDS, window))
            names = self._names(key, clouds)
        return {names.get(test, test): median for test, median in self._medians(rows).items()}

    def add(self, results: Sequence[Result], recorded_at: datetime) -> None:
        """Append ``results`` in one transaction: all of them or none (none given: the database is not opened)."""
        if not results:
            return
        workspace = results[0].workspace  # one recording is one workspace's
        key = self._read_key(workspace)
        if key is None and self.encryption is not None:  # the workspace's first encrypted rows
            from labform.engine.history.sealing import new_key

            row, fresh = new_key(self.encryption)
            self._execute(KEY_ADD, [(workspace, *row)])
            self._keys[workspace] = (row, fresh)  # used if it is the row stored (no other runner's came first)
            key = self._read_key(workspace)
        moment = self._moment(recorded_at)
        self._execute(INSERT, [_row(r, moment, key) for r in results])

    def figures(self, workspace: str, since: datetime, include_local: bool = False) -> dict[str, Figures]:
        """Every test's figures over the window: CI rows alone unless ``include_local``."""
        window = (workspace, self._moment(since), include_local)
        keyed = self._run(*self._key_queries(workspace))
        with ThreadPoolExecutor(1) as pool:  # PBKDF2 leaves the GIL: the key is derived while the database counts
            key = pool.submit(self._key, workspace, keyed)
            clouds_sql = CLOUDS if self.encryption is None else NAMED_CLOUDS
            counted, clouds, timed = self._run((FIGURES, window), (clouds_sql, window), (self.MEDIANS, window))
        medians = self._medians(timed)
        found = {
            test: Figures(test, int(passed), int(failed), int(skipped), int(commits), int(flaky), int(broken))
            for test, passed, failed, skipped, commits, flaky, broken in counted
        }
        for test, figures in found.items():
            figures.median_duration = medians.get(test)
        for test, cloud, *_ in clouds:
            found[test].clouds.add(cloud)
        names = self._names(key.result(), clouds)
        named: dict[str, Figures] = {}
        for test, figures in found.items():  # digests to names; a plain row's test id is its name
            figures.test_id = names.get(test, test)
            if figures.test_id in named:
                named[figures.test_id].absorb(figures)
            else:
                named[figures.test_id] = figures
        return named

    @abstractmethod
    def _present(self) -> bool:
        """Whether this history has been made (asking makes nothing)."""

    def rekey(self) -> str | None:
        """The workspace's data key wrapped under the target's current method now, if a rotation's fallback
        still holds it (``state rekey``): the key provider it is under, None when there is no encrypted
        history. The rows stay as they are; a history not made yet is not made."""
        if self.encryption is None or not self._present() or self._read_key(self.workspace) is None:
            return None
        return str(self._keys[self.workspace][0][0])

    def _key_queries(self, workspace: str) -> list[tuple[str, Sequence[Any]]]:
        """The key row, and with the target whether plain rows are held."""
        plain = [] if self.encryption is None else [(PLAIN, (workspace,))]
        return [(KEY_READ, (workspace,)), *plain]

    def _read_key(self, workspace: str) -> HistoryKey | None:
        return self._key(workspace, self._run(*self._key_queries(workspace)))

    def _key(self, workspace: str, keyed: list[list[tuple[Any, ...]]]) -> HistoryKey | None:
        """The workspace's history key (derived once per store), None for plain rows; refusals as the target says."""
        stored = keyed[0]
        if self.encryption is None:
            if stored:
                raise EncryptionError(
                    f"{self.describe()} is encrypted (key provider {stored[0][0]}): configure the history target "
                    "(encryption: history: in the plan, or LABFORM_ENCRYPTION) to read or add to it"
                )
            return None
        if self.encryption.enforced and keyed[1][0][0]:
            raise EncryptionError(
                f"{self.describe()} holds unencrypted rows of workspace {workspace}, and the history encryption "
                "is enforced: it cannot be read or added to (unenforce it, or start a new history)"
            )
        if not stored:
            return None
        row, cached = tuple(stored[0]), self._keys.get(workspace)
        if cached is None or cached[0] != row:
            from labform.engine.history.sealing import history_key, wrapped

            key, data_key = history_key(self.encryption, row, self.describe())
            if row[0] != self.encryption.method.provider.name:  # opened through the fallback: a rotation
                rewrapped = wrapped(self.encryption, data_key)
                self._execute(KEY_REWRAP, [(*rewrapped, workspace, row[0], row[2])])
                row = rewrapped
            cached = self._keys[workspace] = (row, key)
        return cached[1]

    def _names(self, key: HistoryKey | None, clouds: list[tuple[Any, ...]]) -> dict[str, str]:
        """Each test digest's clear test id, opened from one of its rows (NAMED_CLOUDS's; none for plain rows)."""
        if key is None:
            return {}
        sealed = {digest: value for digest, _, value in clouds if value is not None}  # one per test
        return {digest: key.test_id(value, digest, self.describe()) for digest, value in sealed.items()}

    def _moment(self, moment: datetime) -> Any:
        """A moment as the database compares it."""
        return moment


def _row(r: Result, moment: Any, key: HistoryKey | None) -> tuple[Any, ...]:
    """A result as INSERT's row: with a key, its grouping values as digests and its names sealed."""
    if key is None:
        return (r.workspace, r.cloud, r.test_id, r.device, r.commit, r.run_id, r.source, r.attempt, r.outcome) + (
            r.duration,
            moment,
            None,
        )
    digest = key.digest
    commit = None if r.commit is None else digest(r.commit)
    return (r.workspace, r.cloud, digest(r.test_id), digest(r.device), commit, digest(r.run_id), r.source) + (
        r.attempt,
        r.outcome,
        r.duration,
        moment,
        key.seal(r.test_id, r.device),
    )
