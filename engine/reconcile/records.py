"""Reconciliations in PostgreSQL, beside the state: one row each, written when it starts and
completed when it ends, so a row with no outcome is one in progress (or whose worker died).

The rows are the loop's memory as well as its history: when a workspace is next due (its
last reconcile's end plus ``every``, or a backoff after failures: doubled per consecutive
failure, capped) and its jitter (a fixed share of ``every`` per workspace, so a thousand
workspaces never fall due at one second). A reconcile also holds a session advisory lock
on the workspace for as long as it runs, so ``reconcile now`` and a worker never overlap.

With the ``reconciliations`` encryption target, the payload is sealed column by column
(sealing.py); a row this process cannot open is still read, its unreadable columns saying why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from labform.engine.encryption import envelope
from labform.engine.encryption.errors import EncryptionError
from labform.engine.errors import LabformError, StateError
from labform.engine.reconcile import sealing
from labform.providers import masking

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target

SCHEMA = """
CREATE TABLE IF NOT EXISTS labform_reconciliations (
    id           bigserial PRIMARY KEY,
    workspace    text NOT NULL,
    worker       text NOT NULL,
    scheduled_at timestamptz,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    commit       text,
    outcome      text,
    summary      jsonb NOT NULL DEFAULT '{}',
    drift        jsonb NOT NULL DEFAULT '[]',
    applied      jsonb NOT NULL DEFAULT '[]',
    policy       jsonb NOT NULL DEFAULT '{}',
    error        text,
    report       text,
    saved_plan   jsonb,
    approved_in  bigint
);
ALTER TABLE labform_reconciliations ADD COLUMN IF NOT EXISTS refused_in bigint;
CREATE INDEX IF NOT EXISTS labform_reconciliations_latest ON labform_reconciliations (workspace, id DESC);
-- The newest sealed row, looked up before every write (sealing.NEWEST_SEALED): never a scan of plain rows.
CREATE INDEX IF NOT EXISTS labform_reconciliations_sealed ON labform_reconciliations (id) WHERE drift ? 'sealed';
"""
# Created under this transaction lock: two workers first using a database at once would race.
SCHEMA_LOCK = int.from_bytes(b"lfrecon", "big")

OUTCOMES = (
    "ok",
    "drift",
    "applied",
    "failed",
    "check failed",
    "needs resolution",
    "awaiting approval",
    "interrupted",
    "refused",
)
# Outcomes after which a workspace is due again at once: its work was cut short, not judged.
DUE_AT_ONCE = ("interrupted",)
_DEAD_WORKER = "its worker stopped before finishing; the next reconcile took over"
# The columns the loop schedules by and /metrics reads, never sealed: read without opening anything.
CLEAR_COLUMNS = "id, workspace, worker, scheduled_at, started_at, finished_at, commit, outcome, summary"
JITTER_SHARE = 0.1  # of ``every``: how far a workspace's schedule is shifted, the same shift each period


class ReconcileBusy(LabformError):
    """The workspace is being reconciled elsewhere (a worker, or another ``reconcile now``)."""


@dataclass
class Reconciliation:
    id: int
    workspace: str
    worker: str
    started_at: datetime
    scheduled_at: datetime | None = None
    finished_at: datetime | None = None
    commit: str | None = None
    outcome: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    drift: list[dict[str, Any]] = field(default_factory=list)
    applied: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    report: str | None = None
    saved_plan: dict[str, Any] | None = None
    approved_in: int | None = None
    refused_in: int | None = None  # an approval refused its plan as stale: never approvable again
    # Columns sealed with a key this process does not have: "(encrypted: cannot decrypt with ...)".
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    @property
    def awaiting_approval(self) -> bool:
        saved = self.saved_plan is not None or "saved_plan" in self.unreadable
        return saved and self.approved_in is None and self.refused_in is None

    def unreadable_note(self) -> str:
        """ "; drift, error (encrypted: cannot decrypt with ...)": what a status line says of unreadable columns."""
        by_why: dict[str, list[str]] = {}
        for column, why in self.unreadable.items():
            by_why.setdefault(why, []).append(column.replace("_", " "))
        return "".join(f"; {', '.join(columns)} {why}" for why, columns in by_why.items())

    def to_json(self) -> dict[str, Any]:
        """As ``reconcile status -json`` prints it (the saved plan only as whether there is one; a column
        it cannot decrypt as the string saying why)."""
        shown = {
            "id": self.id,
            "workspace": self.workspace,
            "worker": self.worker,
            "scheduled_at": _iso(self.scheduled_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_seconds": self.seconds,
            "commit": self.commit,
            "outcome": self.outcome or "in progress",
            "summary": self.summary,
            "drift": self.drift,
            "applied": self.applied,
            "policy": self.policy,
            "error": self.error,
            "report": self.report,
            "awaiting_approval": self.awaiting_approval,
            "approved_in": self.approved_in,
            "refused_in": self.refused_in,
        }
        return shown | {column: why for column, why in self.unreadable.items() if column in shown}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _fraction(workspace: str) -> float:
    """A fixed share in [0, 1) per workspace name, spread evenly over names."""
    return int.from_bytes(hashlib.sha256(workspace.encode()).digest()[:4], "big") / 2**32


def jitter(workspace: str, every: float) -> float:
    """Seconds this workspace's schedule is shifted: fixed per name, spread evenly over the share."""
    return _fraction(workspace) * every * JITTER_SHARE


def first_due(workspace: str, every: float, spread: float, now: datetime) -> datetime:
    """When a workspace never reconciled is first due: at its own phase of a window of ``spread``
    (a tenth of ``every`` at most) on a grid fixed in time, so each tick computes the same moment
    and a thousand new workspaces reach the clouds spread over the window, not at one second. A
    phase more than a second past in the current window is the next window's."""
    window = min(spread, every * JITTER_SHARE)
    if window <= 0:
        return now
    start = now.timestamp() - now.timestamp() % window
    moment = start + _fraction(workspace) * window
    return datetime.fromtimestamp(moment if moment + 1.0 >= now.timestamp() else moment + window, UTC)


def backoff(failures: int, initial: float, cap: float) -> float:
    """The wait after ``failures`` consecutive failures: initial, doubled each time, capped."""
    return min(cap, initial * 2.0 ** max(0, failures - 1))


class Records:
    """The reconciliations table of one database."""

    def __init__(self, url: str, target: Target | None = None):
        self.url = url
        self.target = target  # the reconciliations encryption target (None: rows are written plain)
        password = psycopg.conninfo.conninfo_to_dict(url).get("password")
        if password:
            masking.register(str(password))
        self._ready = False

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10, row_factory=dict_row)
        except psycopg.Error as exc:
            host = psycopg.conninfo.conninfo_to_dict(self.url).get("host", "localhost")
            raise StateError(
                f"cannot reach the reconcile database on {host}: {masking.redact(str(exc)).strip()}"
            ) from None
        if not self._ready:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                conn.execute(SCHEMA)
            self._ready = True
        return conn

    @contextmanager
    def held(self, workspace: str) -> Iterator[None]:
        """The workspace's reconcile lock for the block, on a session of its own (gone with a dead holder).

        Released explicitly at the end: a closed session's locks go only once its server process
        has wound down, and the next reconcile may ask for the lock before that."""
        conn = self.connect()
        key = "labform-reconcile:" + workspace
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS got", (key,)).fetchone()
            if not (row and row["got"]):
                running = self.running(workspace)
                who = f" by {running.worker} since {_iso(running.started_at)}" if running else ""
                raise ReconcileBusy(f"workspace '{workspace}' is being reconciled{who}")
            try:
                yield
            finally:
                with contextlib.suppress(psycopg.Error):  # a lost session has let go of it already
                    conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
        finally:
            conn.close()

    def start(self, workspace: str, scheduled_at: datetime | None) -> Reconciliation:
        """A new row, in progress; any earlier row left in progress was a dead worker's, closed as failed.

        Nothing is written when its payload could not be sealed: no key, or no target where
        the newest encrypted row was written under ``enforced``."""
        with self.connect() as conn:
            self._may_write(conn)
            dead = conn.execute(
                "SELECT id FROM labform_reconciliations WHERE workspace = %s AND outcome IS NULL", (workspace,)
            ).fetchall()
            for stale in dead:
                conn.execute(
                    """UPDATE labform_reconciliations SET outcome = 'failed', finished_at = clock_timestamp(), error = %s
                        WHERE id = %s AND outcome IS NULL""",
                    (self._text(workspace, stale["id"], "error", _DEAD_WORKER), stale["id"]),
                )
            row = conn.execute(
                """INSERT INTO labform_reconciliations (workspace, worker, scheduled_at) VALUES (%s, %s, %s)
                   RETURNING *""",
                (workspace, worker_name(), scheduled_at),
            ).fetchone()
        assert row is not None
        return self._reconciliation(row)

    def _may_write(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        """Refused (EncryptionError) when this process would write a row it should seal but cannot."""
        newest = conn.execute(sealing.NEWEST_SEALED).fetchone()
        if self.target is not None:
            if newest:
                sealing.check_key(self.target, newest)
            self.target.method.provider.encryption_key()  # a missing passphrase or failing program: before any write
            return
        if newest and sealing.was_enforced(newest):
            raise EncryptionError(
                f"the reconciliations in this database are encrypted and enforced (#{newest['id']}, "
                f"{envelope.describe(newest['drift'][sealing.SEALED])}), and no reconciliations encryption is "
                "configured here (encryption: in the reconcile configuration, or LABFORM_ENCRYPTION): nothing was written"
            )

    def _text(self, workspace: str, number: int, column: str, value: str | None) -> str | None:
        return sealing.seal(self.target, workspace, number, column, value) if self.target else value

    def _payload(self, item: Reconciliation, column: str, value: Any) -> Jsonb | None:
        """A jsonb column's value, redacted, and sealed if it is one of the payload's (sealing.COLUMNS)."""
        if value is None:
            return None
        redacted = json.loads(masking.redact(json.dumps(value, default=str)))
        if self.target and column in sealing.COLUMNS:
            return Jsonb(sealing.seal(self.target, item.workspace, item.id, column, redacted))
        return Jsonb(redacted)

    def _reconciliation(self, row: dict[str, Any]) -> Reconciliation:
        """The row as read, its sealed columns opened (those that cannot be: left empty, saying why)."""
        unreadable = sealing.opened(self.target, row)
        fields = {name: row[name] for name in Reconciliation.__dataclass_fields__ if row.get(name) is not None}
        return Reconciliation(**fields, unreadable=unreadable)

    def finish(self, item: Reconciliation) -> None:
        error = masking.redact(item.error) if item.error else None
        with self.connect() as conn:
            row = conn.execute(
                """UPDATE labform_reconciliations
                      SET finished_at = clock_timestamp(), commit = %s, outcome = %s, summary = %s, drift = %s,
                          applied = %s, policy = %s, error = %s, report = %s, saved_plan = %s
                    WHERE id = %s RETURNING finished_at""",
                (
                    item.commit,
                    item.outcome,
                    self._payload(item, "summary", item.summary),
                    self._payload(item, "drift", item.drift),
                    self._payload(item, "applied", item.applied),
                    self._payload(item, "policy", item.policy),
                    self._text(item.workspace, item.id, "error", error),
                    self._text(item.workspace, item.id, "report", item.report),
                    self._payload(item, "saved_plan", item.saved_plan),
                    item.id,
                ),
            ).fetchone()
        item.finished_at = row["finished_at"] if row else None

    def mark_approved(self, approved: int, by: int) -> None:
        """Its saved plan was applied by reconciliation ``by``: consumed."""
        with self.connect() as conn:
            conn.execute("UPDATE labform_reconciliations SET approved_in = %s WHERE id = %s", (by, approved))

    def mark_refused(self, refused: int, by: int) -> None:
        """Its saved plan was refused by reconciliation ``by`` (stale): not applied, never approvable again."""
        with self.connect() as conn:
            conn.execute("UPDATE labform_reconciliations SET refused_in = %s WHERE id = %s", (by, refused))

    def get(self, workspace: str, number: int) -> Reconciliation | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT * FROM labform_reconciliations WHERE workspace = %s AND id = %s", (workspace, number)
            ).fetchone()
        return self._reconciliation(row) if row else None

    def history(self, workspace: str, limit: int = 20) -> list[Reconciliation]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM labform_reconciliations WHERE workspace = %s ORDER BY id DESC LIMIT %s",
                (workspace, limit),
            ).fetchall()
        return [self._reconciliation(row) for row in rows]

    def latest(self, workspaces: list[str], payload: bool = True) -> dict[str, Reconciliation]:
        """Each workspace's last finished reconciliation (without ``payload``: its clear columns alone)."""
        columns = "*" if payload else CLEAR_COLUMNS
        with self.connect() as conn:
            rows = conn.execute(
                f"""SELECT DISTINCT ON (workspace) {columns} FROM labform_reconciliations
                    WHERE workspace = ANY(%s) AND outcome IS NOT NULL ORDER BY workspace, id DESC""",
                (workspaces,),
            ).fetchall()
        return {row["workspace"]: self._reconciliation(row) for row in rows}

    def running(self, workspace: str) -> Reconciliation | None:
        with self.connect() as conn:
            row = conn.execute(
                """SELECT * FROM labform_reconciliations WHERE workspace = %s AND outcome IS NULL
                    ORDER BY id DESC LIMIT 1""",
                (workspace,),
            ).fetchone()
        return self._reconciliation(row) if row else None

    def failures(self, workspaces: list[str]) -> dict[str, int]:
        """Consecutive failed reconciles at the end of each workspace's history."""
        with self.connect() as conn:
            rows = conn.execute(
                """SELECT workspace, count(*) AS failures FROM labform_reconciliations r
                    WHERE workspace = ANY(%s) AND outcome = 'failed' AND id > coalesce(
                          (SELECT max(id) FROM labform_reconciliations s
                            WHERE s.workspace = r.workspace AND s.outcome IS NOT NULL AND s.outcome <> 'failed'), 0)
                    GROUP BY workspace""",
                (workspaces,),
            ).fetchall()
        return {row["workspace"]: int(row["failures"]) for row in rows}

    def due(
        self, schedule: dict[str, float], initial: float, cap: float, now: datetime, spread: float = 0.0
    ) -> dict[str, datetime]:
        """When each workspace (name: every) is next due; one never reconciled at its moment of the
        first ``spread`` (first_due), one whose last reconcile was cut off now."""
        latest = self.latest(list(schedule), payload=False)
        failures = self.failures(list(schedule))
        due = {}
        for name, every in schedule.items():
            last = latest.get(name)
            if last is None:
                due[name] = first_due(name, every, spread, now)
                continue
            if last.finished_at is None or last.outcome in DUE_AT_ONCE:
                due[name] = now
                continue
            wait = backoff(failures[name], initial, cap) if name in failures else every
            due[name] = last.finished_at + timedelta(seconds=wait + jitter(name, every))
        return due
