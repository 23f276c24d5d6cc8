"""Test history in the PostgreSQL state database: one table, made on first use, shared by every runner.

    --state 'postgresql://user@host:5432/db?workspace=mobile-prod'

The table lives beside the state tables and is keyed by the same workspace.
It is made under the state schema's advisory lock (two runners using a new
database at once would otherwise race on CREATE), and a trigger refuses
UPDATE and DELETE: the history is only added to.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg

from labform.engine.history.errors import HistoryError
from labform.engine.history.store import KEYS_SCHEMA, KEYS_TABLE, TABLE, TIMED, HistoryStore
from labform.engine.state.postgres import SCHEMA_LOCK, PostgresStateBackend
from labform.providers import masking

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id          bigserial PRIMARY KEY,
    workspace   text NOT NULL,
    cloud       text COLLATE "C" NOT NULL,
    test_id     text COLLATE "C" NOT NULL,
    device      text COLLATE "C" NOT NULL,
    commit_sha  text COLLATE "C",
    run_id      text COLLATE "C" NOT NULL,
    source      text NOT NULL CHECK (source IN ('ci', 'local')),
    attempt     integer NOT NULL CHECK (attempt >= 1),
    outcome     text NOT NULL CHECK (outcome IN ('passed', 'failed', 'error', 'skipped')),
    duration    double precision CHECK (duration >= 0),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {TABLE}_window ON {TABLE} (workspace, recorded_at);
CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'test history is only ever added to'; END $$;
CREATE OR REPLACE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only();
ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS sealed text COLLATE "C";
{KEYS_SCHEMA}"""


def _psycopg(sql: str) -> str:
    """store.py's ``?`` placeholders as psycopg's ``%s`` (the shared SQL holds no other ``?`` or ``%``)."""
    return sql.replace("?", "%s")


class PostgresHistory(HistoryStore):
    def __init__(self, url: str, encryption: Target | None = None):
        super().__init__(encryption)
        # The state backend reads the URL as state does (its workspace, the password masked everywhere).
        self._state = PostgresStateBackend(url)
        self.workspace = self._state.workspace
        self._schema_made = False

    def describe(self) -> str:
        return f"test history in {self._state.describe()}"

    @contextmanager
    def _connection(self, make: bool = True) -> Iterator[psycopg.Connection]:
        """One transaction, committed on exit; the tables made first unless they are (or ``make`` is False)."""
        try:
            with psycopg.connect(self._state.url, connect_timeout=10) as conn:
                if make and not self._schema_made and not self._tables_exist(conn):
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                    conn.execute(SCHEMA)
                yield conn
        except psycopg.Error as exc:
            raise HistoryError(f"{self.describe()}: {masking.redact(str(exc)).strip()}") from None
        self._schema_made = self._schema_made or make  # committed with the first transaction that got this far

    def _present(self) -> bool:
        with self._connection(make=False) as conn:
            return self._tables_exist(conn)

    @staticmethod
    def _tables_exist(conn: psycopg.Connection) -> bool:
        """Made already (the usual case): then no command takes the schema lock or rewrites the trigger.
        The keys table came with the ``sealed`` column: a table made before both gets them."""
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (KEYS_TABLE,)).fetchone()
        return bool(row and row[0])

    def _run(self, *queries: tuple[str, Sequence[Any]]) -> list[list[tuple[Any, ...]]]:
        with self._connection() as conn:
            conn.execute("SET LOCAL work_mem = '64MB'")  # the figures' grouping sorts in memory, not on disk
            return [conn.execute(_psycopg(sql), params).fetchall() for sql, params in queries]

    def _execute(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._connection() as conn, conn.cursor() as cursor:
            cursor.executemany(_psycopg(sql), rows)

    MEDIANS = f"SELECT test_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY duration) {TIMED} GROUP BY test_id"

    def _medians(self, rows: list[tuple[Any, ...]]) -> dict[str, float]:
        return {test: float(median) for test, median in rows}
