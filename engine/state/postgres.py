"""State in PostgreSQL, shared by CI runners: one row per workspace, a journal table, an advisory lock.

Changes between snapshots are rows of ``labform_journal`` (one INSERT each,
committed at once); compaction replaces the snapshot row and empties them.

    --state 'postgresql://user@host:5432/db?workspace=mobile-prod'

The lock is a session-level advisory lock held on its own connection for
the whole command, so it disappears if the holder's process dies. Who holds
it is written to a small table, so a second runner can say who is in the way
(a row counts only while its session still holds the lock: a killed holder's
row is left behind); ``force-unlock`` ends the holder's session.

Encrypted (engine/encryption), ``document`` and each journal ``record`` hold sealed
documents (serial and lineage stay readable in their columns), and
``labform_high_water`` the sealed high-water mark of each workspace.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb

from labform.engine.encryption import envelope
from labform.engine.errors import StateError
from labform.engine.state.backend import StateBackend
from labform.engine.state.model import State
from labform.providers import masking

if TYPE_CHECKING:
    from labform.engine.encryption.records import RecordChain
    from labform.engine.encryption.target import Target

SCHEMA = """
CREATE TABLE IF NOT EXISTS labform_state (
    workspace  text PRIMARY KEY,
    serial     bigint NOT NULL,
    lineage    text NOT NULL,
    document   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS labform_journal (
    workspace  text NOT NULL,
    serial     bigint NOT NULL,
    record     jsonb NOT NULL,
    PRIMARY KEY (workspace, serial)
);
CREATE TABLE IF NOT EXISTS labform_locks (
    workspace  text PRIMARY KEY,
    holder     jsonb NOT NULL,
    backend    integer NOT NULL
);
"""

# Only a backend that encrypts makes it: a plain database keeps exactly the tables it had.
HIGH_WATER_SCHEMA = """
CREATE TABLE IF NOT EXISTS labform_high_water (
    workspace  text PRIMARY KEY,
    lineage    text NOT NULL,
    serial     bigint NOT NULL,
    record     jsonb NOT NULL
);
"""

# Taken (for the transaction only) around creating the tables: two runners first
# using a database at once would otherwise both try to create them, and one fails
# with a unique violation (CREATE TABLE IF NOT EXISTS checks, then creates).
# A fixed key no workspace lock can take: those are hashtext() values, 32-bit.
SCHEMA_LOCK = int.from_bytes(b"labform", "big")

# The recorded holder, if its session still holds the advisory lock on %(key)s
# (pg_locks shows a bigint key as its high half in classid, its low half in objid).
HOLDER = """
SELECT l.holder, l.backend FROM labform_locks l
  JOIN pg_locks p ON p.pid = l.backend AND p.locktype = 'advisory' AND p.granted AND p.objsubid = 1
   AND p.classid = ((%(key)s::bigint >> 32) & 4294967295)::oid AND p.objid = (%(key)s::bigint & 4294967295)::oid
 WHERE l.workspace = %(workspace)s
"""


def _split(url: str) -> tuple[str, str]:
    """(connection URL without our parameter, workspace name)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    workspace = query.pop("workspace", ["default"])[0]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True))), workspace


class PostgresStateBackend(StateBackend):
    def __init__(self, url: str, encryption: Target | None = None):
        self.url, self.workspace = _split(url)
        password = urlsplit(self.url).password
        if password:
            masking.register(password)
        self._lock_conn: psycopg.Connection | None = None
        self._journal_conn: psycopg.Connection | None = None
        self.encryption = encryption
        self._chain: RecordChain | None = None
        if encryption is not None:
            from labform.engine.encryption.records import RecordChain

            self._chain = RecordChain(
                encryption, self.describe(), lambda: self.refuse_plaintext("the journal of state")
            )

    def plaintext(self) -> None:
        super().plaintext()
        self._chain = None

    def describe(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        return f"postgresql://{host}{parts.path} workspace {self.workspace}"

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StateError(
                f"cannot reach the state database {self.describe()}: {masking.redact(str(exc)).strip()}"
            ) from None
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            conn.execute(SCHEMA)
            if self.encryption is not None:
                conn.execute(HIGH_WATER_SCHEMA)
        return conn

    def _key(self, conn: psycopg.Connection) -> int:
        row = conn.execute("SELECT hashtext(%s)", ("labform:" + self.workspace,)).fetchone()
        assert row is not None  # a SELECT of one value answers one row
        key: int = row[0]
        return key

    def _load(self) -> State:
        with self._connect() as conn:
            row = conn.execute("SELECT document FROM labform_state WHERE workspace = %s", (self.workspace,)).fetchone()
        if row is None:
            return State()
        if envelope.is_sealed(row[0]):
            return State.from_json(self.opened_snapshot(row[0]))
        self.refuse_plaintext("state")
        return State.from_json(json.dumps(row[0]))

    def _journal_records(self) -> list[dict[str, Any]]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT record FROM labform_journal WHERE workspace = %s ORDER BY serial", (self.workspace,)
            ).fetchall()
        records = [row[0] for row in rows]
        return records if self._chain is None else self._chain.open(records)

    def _journal_append(self, record: dict[str, Any]) -> None:
        """One INSERT per record, committed at once (autocommit): durable when it returns."""
        if self._journal_conn is None:
            self._journal_conn = self._connect()
        written = record
        if self._chain is not None:
            if self._chain.previous is None:
                last = self._journal_conn.execute(
                    "SELECT record FROM labform_journal WHERE workspace = %s ORDER BY serial DESC LIMIT 1",
                    (self.workspace,),
                ).fetchone()
                self._chain.resume(last[0] if last else None)
            linked = self._chain.previous
            written = self._chain.seal(record)
        try:
            self._journal_conn.execute(
                "INSERT INTO labform_journal (workspace, serial, record) VALUES (%s, %s, %s)",
                (self.workspace, record["serial"], Jsonb(json.loads(json.dumps(written, default=str)))),
            )
        except BaseException:
            if self._chain is not None:
                self._chain.previous = linked
            raise

    def _journal_reset(self) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM labform_journal WHERE workspace = %s", (self.workspace,))
        if self._journal_conn is not None:
            self._journal_conn.close()
            self._journal_conn = None
        if self._chain is not None:
            self._chain.previous = ""

    def _mark_load(self) -> Any:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT record FROM labform_high_water WHERE workspace = %s", (self.workspace,)
            ).fetchone()
        return None if row is None else row[0]

    def _mark_store(self, document: dict[str, Any]) -> None:
        """On the journal's connection while a command appends (the mark follows each record), else its own."""
        context = document["context"]
        statement = """INSERT INTO labform_high_water (workspace, lineage, serial, record) VALUES (%s, %s, %s, %s)
                       ON CONFLICT (workspace) DO UPDATE
                       SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial, record = EXCLUDED.record"""
        values = (self.workspace, context["lineage"], context["serial"], Jsonb(document))
        if self._journal_conn is not None:
            self._journal_conn.execute(statement, values)
            return
        with self._connect() as conn:
            conn.execute(statement, values)

    def _mark_drop(self) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM labform_high_water WHERE workspace = %s", (self.workspace,))

    def _store(self, state: State) -> None:
        sealed = self.sealed_snapshot(state)
        document = json.loads(state.to_json()) if sealed is None else sealed
        with self._connect() as conn:
            conn.execute(
                """INSERT INTO labform_state (workspace, serial, lineage, document) VALUES (%s, %s, %s, %s)
                   ON CONFLICT (workspace) DO UPDATE
                   SET serial = EXCLUDED.serial, lineage = EXCLUDED.lineage, document = EXCLUDED.document, updated_at = now()""",
                (self.workspace, state.serial, state.lineage, Jsonb(document)),
            )

    def _holder(self, conn: psycopg.Connection) -> tuple[dict[str, Any], int] | None:
        return conn.execute(HOLDER, {"key": self._key(conn), "workspace": self.workspace}).fetchone()

    def _try_lock(self, holder: dict[str, Any]) -> dict[str, Any] | None:
        conn = self._connect()
        taken = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key(conn),)).fetchone()
        if not (taken and taken[0]):
            row = self._holder(conn)
            conn.close()
            return row[0] if row else {}
        conn.execute(
            """INSERT INTO labform_locks (workspace, holder, backend) VALUES (%s, %s, pg_backend_pid())
               ON CONFLICT (workspace) DO UPDATE SET holder = EXCLUDED.holder, backend = EXCLUDED.backend""",
            (self.workspace, Jsonb(holder)),
        )
        self._lock_conn = conn
        return None

    def release(self) -> None:
        if self._lock_conn is None:
            return
        conn, self._lock_conn = self._lock_conn, None
        try:
            conn.execute(
                "DELETE FROM labform_locks WHERE workspace = %s AND backend = pg_backend_pid()", (self.workspace,)
            )
            conn.execute("SELECT pg_advisory_unlock(%s)", (self._key(conn),))
        except psycopg.OperationalError:
            pass  # the session was ended (force-unlock): its lock went with it
        finally:
            conn.close()

    def force_unlock(self) -> dict[str, Any] | None:
        """End the session holding the lock: its client may be gone with the TCP connection not yet timed out.

        Only the session pg_locks shows holding the lock is ended, never a pid
        from a stale row (it may belong to an unrelated session by now).
        """
        with self._connect() as conn:
            row = self._holder(conn)
            if row is not None:
                conn.execute("SELECT pg_terminate_backend(%s)", (row[1],))
            conn.execute("DELETE FROM labform_locks WHERE workspace = %s", (self.workspace,))
            return row[0] if row else None
