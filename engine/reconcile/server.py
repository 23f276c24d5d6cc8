"""``labform reconcile serve``: a push reconciles at once, and the loop can be watched.

    POST /webhook   GitHub's push event, signed with the shared secret (``X-Hub-Signature-256:
                    sha256=<hex HMAC of the body>``, compared in constant time); every workspace
                    reconciling the pushed repository at the pushed branch is queued. A missing or
                    bad signature is 401 and queues nothing; a body that is not JSON, or names a
                    repository no workspace reconciles, is 400/404 with a plain message.
    GET /healthz    200 while the queue's database answers, 503 otherwise
    GET /metrics    Prometheus' text format: reconciles by outcome, drift found, queue lag,
                    last success per workspace (read from the records at each scrape)

It binds to loopback unless told otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from labform.engine.reconcile import queue

if TYPE_CHECKING:
    import procrastinate

    from labform.engine.reconcile.reconciler import Reconciler

SIGNATURE = "X-Hub-Signature-256"
MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


def signed(body: bytes, secret: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def _same_repository(configured: str, pushed: dict[str, Any]) -> bool:
    """A workspace's repo written as any of the URLs GitHub names the pushed repository by."""
    names = {pushed.get(key) for key in ("clone_url", "ssh_url", "git_url", "html_url", "url", "full_name")}
    names |= {name.removesuffix(".git") for name in names if isinstance(name, str)}
    return configured in names or configured.removesuffix(".git") in names


def build(reconciler: Reconciler, app: procrastinate.App, secret: bytes) -> Starlette:
    loaded = reconciler.loaded

    async def webhook(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("body too large\n", status_code=413)
        if not signed(body, secret, request.headers.get(SIGNATURE)):
            return PlainTextResponse(f"missing or bad {SIGNATURE} signature\n", status_code=401)
        event = request.headers.get("X-GitHub-Event", "push")
        if event == "ping":
            return JSONResponse({"pong": True})
        if event != "push":
            return PlainTextResponse(f"only push events reconcile (got {event})\n", status_code=400)
        try:
            push = json.loads(body)
        except ValueError:
            return PlainTextResponse("the body is not JSON\n", status_code=400)
        if not isinstance(push, dict) or not isinstance(push.get("repository"), dict):
            return PlainTextResponse("a push event names its repository\n", status_code=400)
        branch = str(push.get("ref", "")).removeprefix("refs/heads/")
        matching = [
            name
            for name, spec in loaded.config.workspaces.items()
            if _same_repository(spec.repo, push["repository"]) and spec.ref in (branch, push.get("after"))
        ]
        if not matching:
            return PlainTextResponse("no workspace reconciles this repository and branch\n", status_code=404)
        queued = [name for name in matching if await _enqueue(app, name)]
        return JSONResponse({"queued": queued, "already_queued": sorted(set(matching) - set(queued))}, status_code=202)

    async def healthz(request: Request) -> Response:
        try:
            reconciler.records.latest([])
        except Exception as exc:  # any failure to reach the database is ill health
            return PlainTextResponse(f"database unreachable: {exc}\n", status_code=503)
        return PlainTextResponse("ok\n")

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(_scrape(reconciler)), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/webhook", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )


async def _enqueue(app: procrastinate.App, name: str) -> bool:
    from starlette.concurrency import run_in_threadpool

    return bool(await run_in_threadpool(queue.enqueue, app, name, "push"))


def _scrape(reconciler: Reconciler) -> CollectorRegistry:
    """A registry made afresh from the records: every server reports the same numbers, whichever answers."""
    registry = CollectorRegistry()
    names = list(reconciler.loaded.config.workspaces)
    counts = Gauge(
        "labform_reconciles",
        "Reconciles recorded, by workspace and outcome",
        ["workspace", "outcome"],
        registry=registry,
    )
    drift = Gauge(
        "labform_drifted_resources", "Resources found drifted by the latest reconcile", ["workspace"], registry=registry
    )
    lag = Gauge(
        "labform_queue_lag_seconds",
        "Latest reconcile's start after its scheduled time",
        ["workspace"],
        registry=registry,
    )
    success = Gauge(
        "labform_last_success_timestamp_seconds",
        "When the workspace last reconciled without failing",
        ["workspace"],
        registry=registry,
    )
    with reconciler.records.connect() as conn:
        for row in conn.execute(
            "SELECT workspace, outcome, count(*) AS n FROM labform_reconciliations"
            " WHERE workspace = ANY(%s) AND outcome IS NOT NULL GROUP BY 1, 2",
            (names,),
        ):
            counts.labels(row["workspace"], row["outcome"]).set(row["n"])
        for row in conn.execute(
            "SELECT workspace, max(finished_at) AS at FROM labform_reconciliations"
            " WHERE workspace = ANY(%s) AND outcome IN ('ok', 'drift', 'applied', 'check failed', 'awaiting approval')"
            " GROUP BY 1",
            (names,),
        ):
            success.labels(row["workspace"]).set(row["at"].timestamp())
    for name, item in reconciler.records.latest(names, payload=False).items():
        drift.labels(name).set(item.summary.get("drifted", 0))  # in clear: a sealed drift needs no key here
        if item.scheduled_at is not None:
            lag.labels(name).set(max(0.0, (item.started_at - item.scheduled_at).total_seconds()))
    return registry


def serve(reconciler: Reconciler, secret: bytes, host: str, port: int) -> None:
    import uvicorn

    queue.ensure_schema(reconciler.loaded.config.database)
    app = queue.build_app(reconciler)
    with app.open():
        uvicorn.run(build(reconciler, app, secret), host=host, port=port, log_level="warning")
