"""State in PostgreSQL, shared by CI runners: one row per workspace, an advisory lock.

    --state 'postgresql://user@host:5432/db?workspace=mobile-prod'

The lock is a session-level advisory lock held on its own connection for
the whole command, so it disappears if the holder's process dies. Who holds
it is written to a small table, so a second runner can say who is in the way;
``force-unlock`` ends the holder's session.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb

from engine import secrets
from engine.errors import StateError, StateLockedError
from engine.state.model import State, StateBackend, describe_holder, lock_holder

SCHEMA = """
CREATE TABLE IF NOT EXISTS labform_state (
    workspace  text PRIMARY KEY,
    serial     bigint NOT NULL,
    lineage    text NOT NULL,
    document   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS labform_locks (
    workspace  text PRIMARY KEY,
    holder     jsonb NOT NULL,
    backend    integer NOT NULL
);
"""


def _split(url: str) -> tuple[str, str]:
    """(connection URL without our parameter, workspace name)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    workspace = query.pop("workspace", ["default"])[0]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True))), workspace


class PostgresStateBackend(StateBackend):
    def __init__(self, url: str):
        self.url, self.workspace = _split(url)
        password = urlsplit(self.url).password
        if password:
            secrets.register(password)
        self._lock_conn: psycopg.Connection | None = None

    def describe(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        return f"postgresql://{host}{parts.path} workspace {self.workspace}"

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StateError(f"cannot reach the state database {self.describe()}: {secrets.redact(str(exc)).strip()}") from None
        conn.execute(SCHEMA)
        return conn

    def _key(self, conn: psycopg.Connection) -> int:
        return conn.execute("SELECT hashtext(%s)", ("labform:" + self.workspace,)).fetchone()[0]

    def read(self) -> State:
        with self._connect() as conn:
            row = conn.execute("SELECT document FROM labform_state WHERE workspace = %s", (self.workspace,)).fetchone()
        return State() if row is None else State.from_json(json.dumps(row[0]))

    def _store(self, state: State) -> None:
        document = json.loads(state.to_json())
        with self._connect() as conn:
            conn.execute(
                """INSERT INTO labform_state (workspace, serial, lineage, document) VALUES (%s, %s, %s, %s)
                   ON CONFLICT (workspace) DO UPDATE
                   SET serial = EXCLUDED.serial, lineage = EXCLUDED.lineage, document = EXCLUDED.document, updated_at = now()""",
                (self.workspace, state.serial, state.lineage, Jsonb(document)),
            )

    def acquire(self, operation: str) -> None:
        conn = self._connect()
        key = self._key(conn)
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
            row = conn.execute("SELECT holder FROM labform_locks WHERE workspace = %s", (self.workspace,)).fetchone()
            conn.close()
            raise StateLockedError(
                f"state {self.describe()} is locked: {describe_holder(row[0] if row else {})}. "
                "If no labform process holds it, run 'labform force-unlock'."
            )
        conn.execute(
            """INSERT INTO labform_locks (workspace, holder, backend) VALUES (%s, %s, pg_backend_pid())
               ON CONFLICT (workspace) DO UPDATE SET holder = EXCLUDED.holder, backend = EXCLUDED.backend""",
            (self.workspace, Jsonb(lock_holder(operation))),
        )
        self._lock_conn = conn

    def release(self) -> None:
        if self._lock_conn is None:
            return
        conn, self._lock_conn = self._lock_conn, None
        try:
            conn.execute("DELETE FROM labform_locks WHERE workspace = %s AND backend = pg_backend_pid()", (self.workspace,))
            conn.execute("SELECT pg_advisory_unlock(%s)", (self._key(conn),))
        except psycopg.OperationalError:
            pass  # the session was ended (force-unlock): its lock went with it
        finally:
            conn.close()

    def force_unlock(self) -> dict[str, Any] | None:
        with self._connect() as conn:
            row = conn.execute("SELECT holder, backend FROM labform_locks WHERE workspace = %s", (self.workspace,)).fetchone()
            if row is None:
                return None
            conn.execute("SELECT pg_terminate_backend(%s)", (row[1],))
            conn.execute("DELETE FROM labform_locks WHERE workspace = %s", (self.workspace,))
            return row[0]
