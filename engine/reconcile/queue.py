"""The reconcile loop's jobs, queued and locked in PostgreSQL by procrastinate (docs/reconcile.md).

    queue "reconcile"  reconcile(workspace, reason, scheduled)  lock and queueing lock workspace:NAME
    queue "control"    tick   (every TICK seconds)  enqueue each workspace that falls due, at its due time
                       sweep  (every TICK seconds)  retry jobs whose worker's heartbeat stopped

A worker process runs two procrastinate workers on one event loop, one per queue, each one
job at a time: a reconcile owns the process's working directory and environment while it
runs (engine/reconcile/reconciler.py), and a long apply never delays the ticker or the
sweeper. Reconciles run in procrastinate's thread for synchronous tasks, so the event loop
keeps the worker's heartbeat going however long an apply takes: a live job is never taken
for a stalled one, and so never delivered twice.

SIGTERM (or SIGINT) is caught on the event loop (``loop.add_signal_handler``; apply's own
handlers live on the main thread, which here belongs to the loop): it sets the stop event
the running apply was given (the executor starts no new change and lets those in flight
finish), then asks both workers to stop once their current job is done. The reconciliation
is ``interrupted``, and its job queues the workspace again for the next worker.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import procrastinate
import psycopg
from procrastinate import exceptions
from procrastinate.worker import Worker

from labform.engine.reconcile.records import ReconcileBusy

if TYPE_CHECKING:
    from labform.engine.reconcile.reconciler import Reconciler

log = logging.getLogger(__name__)

RECONCILE_QUEUE = "reconcile"
CONTROL_QUEUE = "control"
TICK = 5  # seconds between ticks and sweeps: a workspace is enqueued at most this late
POLL = 1.0  # seconds between a worker's looks for a scheduled job fallen due (procrastinate's default: 5)
# Created under this transaction lock: two workers first using a database at once would race.
SCHEMA_LOCK = int.from_bytes(b"lfqueue", "big")


class Stop(threading.Event):
    """Set by SIGTERM/SIGINT: the running apply starts no new change (``reason`` names the signal)."""

    reason: str | None = None


def workspace_lock(name: str) -> str:
    return f"workspace:{name}"


def ensure_schema(database: str) -> None:
    """procrastinate's tables, made once per database (its schema script is not idempotent)."""
    with psycopg.connect(database, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        if not (row and row[0]):
            conn.execute(procrastinate.schema.SchemaManager.get_schema())


def build_app(reconciler: Reconciler) -> procrastinate.App:
    """The app and its three tasks, bound to one configuration."""
    config = reconciler.loaded.config
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=config.database))
    every = f"* * * * * */{TICK}"  # croniter's sixth field counts seconds

    @app.task(name="labform.reconcile", queue=RECONCILE_QUEUE, pass_context=False)
    def reconcile(workspace: str, reason: str, scheduled: str | None = None) -> str:
        """One reconcile; its failure is recorded by the reconciler, never raised into the queue."""
        at = datetime.fromisoformat(scheduled) if scheduled else None
        if reason == "schedule" and not _still_due(reconciler, workspace):
            return "not due"  # reconciled by a push or 'now' since it was enqueued
        try:
            item = reconciler.reconcile(workspace, at)
        except ReconcileBusy as exc:
            return str(exc)  # 'reconcile now' has it: that run is the reconcile
        if item.outcome == "interrupted":
            enqueue(app, workspace, "interrupted")  # delivered to the next worker, once this job lets go of its lock
        return f"#{item.id} {item.outcome}"

    @app.periodic(cron=every, periodic_id="tick")
    @app.task(name="labform.tick", queue=CONTROL_QUEUE, queueing_lock="labform.tick", pass_context=False)
    def tick(timestamp: int) -> int:
        return enqueue_due(app, reconciler, datetime.now(UTC) + timedelta(seconds=TICK))

    @app.periodic(cron=every, periodic_id="sweep")
    @app.task(name="labform.sweep", queue=CONTROL_QUEUE, queueing_lock="labform.sweep", pass_context=False)
    async def sweep(timestamp: int) -> int:
        return await retry_stalled(app, config.heartbeat_timeout)

    return app


def _still_due(reconciler: Reconciler, workspace: str) -> bool:
    """Whether a scheduled job is still wanted: a push or 'now' may have reconciled it since. A first
    reconcile always is (its moment of the first spread may have passed while the job waited)."""
    config = reconciler.loaded.config
    every = config.workspaces[workspace].every
    due = reconciler.records.due({workspace: every}, config.backoff.initial, config.backoff.max, datetime.now(UTC))
    return due[workspace] <= datetime.now(UTC) + timedelta(seconds=TICK)


def enqueue(app: procrastinate.App, workspace: str, reason: str, at: datetime | None = None) -> bool:
    """Queue one reconcile of ``workspace`` (at ``at``); False if one is queued already."""
    task = app.tasks["labform.reconcile"]
    lock = workspace_lock(workspace)
    try:
        task.configure(lock=lock, queueing_lock=lock, schedule_at=at).defer(
            workspace=workspace, reason=reason, scheduled=at.isoformat() if at else None
        )
    except exceptions.AlreadyEnqueued:
        return False
    return True


def enqueue_due(app: procrastinate.App, reconciler: Reconciler, horizon: datetime) -> int:
    """Queue, at its due time, each workspace due before ``horizon`` and not being reconciled now."""
    config = reconciler.loaded.config
    schedule = {name: spec.every for name, spec in config.workspaces.items()}
    due = reconciler.records.due(
        schedule, config.backoff.initial, config.backoff.max, datetime.now(UTC), config.first_spread
    )
    queued = 0
    for name, at in sorted(due.items(), key=lambda item: item[1]):
        if at <= horizon and reconciler.records.running(name) is None:
            queued += enqueue(app, name, "schedule", at)
    return queued


async def retry_stalled(app: procrastinate.App, heartbeat_timeout: float) -> int:
    """Jobs a dead worker held (its heartbeat older than the timeout) put back in the queue,
    where their lock lets the next worker take them; then the dead workers forgotten. A job
    whose workspace is queued again already (its queueing lock taken) is closed as failed
    instead: the queued one reconciles the workspace, once its lock is free."""
    from procrastinate.jobs import Status

    manager = app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=heartbeat_timeout))
    for job in stalled:
        log.warning("retrying job %s (%s): its worker stopped sending heartbeats", job.id, job.call_string)
        try:
            await manager.retry_job(job)
        except exceptions.UniqueViolation:
            await manager.finish_job(job, Status.FAILED, delete_job=False)
    await manager.prune_stalled_workers(seconds_since_heartbeat=heartbeat_timeout)
    return len(stalled)


async def _run(app: procrastinate.App, stop: Stop, heartbeat_timeout: float) -> None:
    options: dict[str, Any] = {
        "concurrency": 1,
        # A job scheduled for later sends no notification when it falls due: it is found by this poll.
        "fetch_job_polling_interval": POLL,
        "install_signal_handlers": False,
        "update_heartbeat_interval": max(0.5, heartbeat_timeout / 4),
        "stalled_worker_timeout": heartbeat_timeout,
        "delete_jobs": "successful",
    }
    workers = [Worker(app, queues=[RECONCILE_QUEUE], **options), Worker(app, queues=[CONTROL_QUEUE], **options)]

    def stopping(name: str) -> None:
        log.warning("%s received: finishing the current change, then stopping", name)
        stop.reason = name
        stop.set()
        for worker in workers:
            worker.stop()  # type: ignore[no-untyped-call]  # procrastinate leaves it unannotated

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping, signal.Signals(signum).name)
    async with app.open_async():
        await asyncio.gather(*(worker.run() for worker in workers))  # type: ignore[no-untyped-call]


def run_worker(reconciler: Reconciler) -> None:
    """Serve the queue until SIGTERM/SIGINT; the reconciler's stop event is the one signals set."""
    config = reconciler.loaded.config
    ensure_schema(config.database)
    stop = Stop()
    reconciler.stop = stop
    asyncio.run(_run(build_app(reconciler), stop, config.heartbeat_timeout))
