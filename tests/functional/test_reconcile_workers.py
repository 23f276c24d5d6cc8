"""``labform reconcile worker`` processes sharing one PostgreSQL queue: the real CLI in processes of
its own, a real git repository, the Bitbar emulator over HTTP.

The waits below poll the database for a state of affairs (a bounded poll, so a broken build
fails instead of hanging); what is asserted is what the records and the cloud hold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from labform.engine.reconcile.records import Records
from labform.providers import registry
from labform.providers.emulation import EmulatorOptions
from labform.providers.emulation.server import EmulatorServer
from tests.fixtures.clouds import RunningBitbar
from tests.functional import test_reconcile_kit as kit
from tests.functional.test_reconcile_kit import QUICKSTART, write_config

reconcile_db, repo = kit.reconcile_db, kit.repo  # the kit's fixtures, used here
ROOT = Path(__file__).resolve().parents[2]
PATIENCE = 180.0  # seconds a poll waits before the test fails: far beyond what the work takes


def _until(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


class Workers:
    """Worker processes started and, whatever happens, ended by the test."""

    def __init__(self, config: Path):
        self.config = config
        self.running: list[subprocess.Popen[str]] = []

    def start(self) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LABFORM_RETRY_SLEEP": "none"}
        process = subprocess.Popen(
            [sys.executable, "-m", "labform.engine", "reconcile", "worker", "--config", str(self.config)],
            cwd=self.config.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[str]) -> tuple[int, str]:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=PATIENCE)
        return process.returncode, output

    def end_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.fixture
def workers(tmp_path) -> Iterator[Callable[[Path], Workers]]:
    made: list[Workers] = []

    def make(config: Path) -> Workers:
        made.append(Workers(config))
        return made[-1]

    yield make
    for group in made:
        group.end_all()


def _rows(database: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(database) as conn:
        return conn.execute(query, params).fetchall()


def _plans(repo: kit.Repo, names: list[str]) -> None:
    """One quickstart per workspace, its objects named apart (they share one Bitbar account)."""
    text = QUICKSTART.read_text()
    repo.commit(
        {
            f"{name}/main.yaml": text.replace("Checkout flow", f"Checkout {name}").replace(
                "Smoke phones", f"Smoke {name}"
            )
            for name in names
        }
    )


def _workspaces(repo: kit.Repo, names: list[str], every: str) -> str:
    env = f"env: {{BITBAR_URL: '{os.environ['BITBAR_URL']}', BITBAR_API_KEY: '{os.environ['BITBAR_API_KEY']}'}}"
    return "".join(
        f"{name}:\n  repo: {repo.path}\n  path: {name}\n  every: {every}\n  {env}\n  policy: {{mode: auto}}\n"
        for name in names
    )


def test_two_workers_share_the_work_and_never_hold_one_workspace_at_once(
    tmp_path, reconcile_db, repo, bitbar: RunningBitbar, workers
):
    names = ["alpha", "beta", "gamma"]
    _plans(repo, names)
    config = write_config(tmp_path, reconcile_db, _workspaces(repo, names, "1s"), "heartbeat_timeout: 5s\n")
    pool = workers(config)
    first, second = pool.start(), pool.start()

    def three_rounds_each() -> bool:
        counts = dict(
            _rows(
                reconcile_db,
                "SELECT workspace, count(*) FROM labform_reconciliations WHERE outcome IS NOT NULL GROUP BY workspace",
            )
            if _rows(reconcile_db, "SELECT to_regclass('labform_reconciliations') IS NOT NULL")[0][0]
            else []
        )
        return all(counts.get(name, 0) >= 3 for name in names)

    _until("three reconciles of every workspace", three_rounds_each)
    for process in (first, second):
        code, output = pool.stop(process)
        assert code == 0, output
        assert "Worker stopped." in output
    rows = _rows(
        reconcile_db,
        "SELECT workspace, started_at, finished_at, outcome, worker FROM labform_reconciliations ORDER BY workspace, started_at",
    )
    for name in names:
        mine = [row for row in rows if row[0] == name]
        for earlier, later in zip(mine, mine[1:], strict=False):
            assert earlier[2] is not None and earlier[2] <= later[1], (
                f"{name} was held twice at once: {earlier} {later}"
            )
        outcomes = [row[3] for row in mine]
        assert outcomes[0] == "applied" and set(outcomes[1:]) == {"ok"}, outcomes
    assert sorted(p["name"] for p in bitbar.app.store.data["projects"].values()) == [f"Checkout {n}" for n in names]


@pytest.fixture
def slow_cloud(emulator_options):
    """Each answer takes a while, so an apply is still going when its worker is killed."""
    emulator_options.latency = 0.4


def test_a_killed_workers_workspace_is_taken_over_and_finished_exactly_once(
    slow_cloud, tmp_path, reconcile_db, repo, bitbar: RunningBitbar, workers, workdir
):
    _plans(repo, ["shop"])
    config = write_config(tmp_path, reconcile_db, _workspaces(repo, ["shop"], "1h"), "heartbeat_timeout: 2s\n")
    pool = workers(config)
    doomed = pool.start()
    queued = workdir.run("reconcile", "now", "shop", "--queue", "--config", str(config))
    assert queued.exit_code == 0, queued.output

    def creating() -> bool:
        held = _rows(reconcile_db, "SELECT to_regclass('labform_journal') IS NOT NULL")[0][0]
        return bool(
            held
            and _rows(
                reconcile_db,
                "SELECT 1 FROM labform_journal WHERE workspace = 'shop' AND record->>'kind' = 'intent'",
            )
        )

    _until("the first create to be announced in the journal", creating)
    doomed.kill()  # SIGKILL, mid-apply: no handler runs, its sessions (and locks) go with it
    doomed.communicate()
    heir = pool.start()

    def finished() -> bool:
        return bool(_rows(reconcile_db, "SELECT 1 FROM labform_reconciliations WHERE outcome IN ('applied', 'ok')"))

    _until("another worker to finish the workspace", finished)
    code, output = pool.stop(heir)
    assert code == 0, output
    rows = _rows(reconcile_db, "SELECT outcome, error FROM labform_reconciliations ORDER BY id")
    assert rows[0] == ("failed", "its worker stopped before finishing; the next reconcile took over")
    assert rows[1][0] == "applied", rows
    store = bitbar.app.store.data
    assert [p["name"] for p in store["projects"].values()] == ["Checkout shop"]
    assert [g["displayName"] for g in store["deviceGroups"].values() if g["displayName"].startswith("Smoke")] == [
        "Smoke shop"
    ]
    again = workdir.run("reconcile", "now", "shop", "--config", str(config), "-json")
    assert again.exit_code == 0 and '"outcome": "ok"' in again.stdout, again.output


def test_sigterm_mid_apply_records_interrupted_and_the_next_worker_finishes_it(
    slow_cloud, tmp_path, reconcile_db, repo, bitbar: RunningBitbar, workers, workdir
):
    _plans(repo, ["shop"])
    config = write_config(tmp_path, reconcile_db, _workspaces(repo, ["shop"], "1h"), "heartbeat_timeout: 2s\n")
    pool = workers(config)
    stopping = pool.start()
    assert workdir.run("reconcile", "now", "shop", "--queue", "--config", str(config)).exit_code == 0

    def creating() -> bool:
        held = _rows(reconcile_db, "SELECT to_regclass('labform_journal') IS NOT NULL")[0][0]
        return bool(held and _rows(reconcile_db, "SELECT 1 FROM labform_journal WHERE record->>'kind' = 'intent'"))

    _until("the first create to be announced in the journal", creating)
    code, output = pool.stop(stopping)  # SIGTERM: the create in flight finishes, nothing new starts
    assert code == 0 and "SIGTERM received" in output and "Worker stopped." in output, output
    [(outcome, error, applied)] = _rows(reconcile_db, "SELECT outcome, error, applied FROM labform_reconciliations")
    assert outcome == "interrupted", (outcome, error)
    assert error.startswith("SIGTERM stopped the worker: the changes in flight finished"), error
    results = [change["result"] for change in applied]
    assert "done" in results and "not started" in results and "failed" not in results, applied
    # Handed on at once, no backoff: one job queued (its own, or the ticker's if that came first), and due now.
    queued = _rows(reconcile_db, "SELECT args->>'reason' FROM procrastinate_jobs WHERE status = 'todo'")
    assert len(queued) == 1 and queued[0][0] in ("interrupted", "schedule"), queued
    now = datetime.now(UTC)
    assert Records(reconcile_db).due({"shop": 3600.0}, 30.0, 3600.0, now) == {"shop": now}
    heir = pool.start()
    _until(
        "the next worker to finish the workspace",
        lambda: bool(_rows(reconcile_db, "SELECT 1 FROM labform_reconciliations WHERE outcome = 'applied'")),
    )
    assert pool.stop(heir)[0] == 0
    outcomes = [row[0] for row in _rows(reconcile_db, "SELECT outcome FROM labform_reconciliations ORDER BY id")]
    assert outcomes == ["interrupted", "applied"]
    store = bitbar.app.store.data
    assert [p["name"] for p in store["projects"].values()] == ["Checkout shop"]
    assert [g["displayName"] for g in store["deviceGroups"].values() if g["displayName"].startswith("Smoke")] == [
        "Smoke shop"
    ]


@pytest.fixture
def other_account(emulator_options) -> Iterator[tuple[RunningBitbar, str]]:
    """A second Bitbar account, on an emulator of its own with a key of its own."""
    key = "second-account-key-0f3a9c"
    options = EmulatorOptions(clock=emulator_options.clock, credentials={"api_key": key})
    app = registry.emulator("bitbar").build_app(options, "default")
    with EmulatorServer(app) as server:
        yield RunningBitbar(app, server), key


def test_one_worker_serves_workspaces_with_keys_from_a_file_and_a_program_and_never_shows_them(
    tmp_path, reconcile_db, repo, bitbar: RunningBitbar, other_account, workers, monkeypatch
):
    second, second_key = other_account
    first_key = os.environ["BITBAR_API_KEY"]
    for name in ("BITBAR_URL", "BITBAR_API_KEY"):
        monkeypatch.delenv(name)  # the worker knows no key of its own: each workspace brings its own
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "first-key").write_text(first_key + "\n")
    (secrets / "second.env").write_text(f"BITBAR_URL={second.url}\nBITBAR_API_KEY='{second_key}'\n")
    _plans(repo, ["first", "second"])
    workspaces = f"""\
first:
  repo: {repo.path}
  path: first
  every: 1h
  env:
    BITBAR_URL: {bitbar.url}
    BITBAR_API_KEY: {{file: secrets/first-key}}
  policy: {{mode: auto}}
second:
  repo: {repo.path}
  path: second
  every: 1h
  env_files:
    - {{command: [cat, secrets/second.env]}}
  policy: {{mode: auto}}
broken:
  repo: {repo.path}
  path: first
  every: 1h
  env:
    BITBAR_API_KEY: {{command: [sh, -c, 'cat secrets/second.env >&2; exit 3']}}
"""
    # Reconciled at once (first_spread: 0s): this test is about their keys, not when they start.
    config = write_config(tmp_path, reconcile_db, workspaces, "heartbeat_timeout: 5s\nfirst_spread: 0s\n")
    assert first_key not in config.read_text() and second_key not in config.read_text()
    pool = workers(config)
    worker = pool.start()
    done = "SELECT workspace, outcome, error FROM labform_reconciliations WHERE outcome IS NOT NULL ORDER BY workspace"

    def all_three() -> bool:
        ready = _rows(reconcile_db, "SELECT to_regclass('labform_reconciliations') IS NOT NULL")[0][0]
        return bool(ready) and len(_rows(reconcile_db, done)) >= 3

    _until("a reconcile of each workspace", all_three)
    code, output = pool.stop(worker)
    assert code == 0, output
    rows = {row[0]: row[1:] for row in _rows(reconcile_db, done)}
    assert rows["first"] == ("applied", None) and rows["second"] == ("applied", None), rows
    assert rows["broken"][0] == "failed"
    assert rows["broken"][1].endswith("workspaces.broken.env.BITBAR_API_KEY: sh exited 3 (its output is not shown)"), (
        rows
    )
    assert [p["name"] for p in bitbar.app.store.data["projects"].values()] == ["Checkout first"]
    assert [p["name"] for p in second.app.store.data["projects"].values()] == ["Checkout second"]
    everything = _rows(reconcile_db, "SELECT row_to_json(r)::text FROM labform_reconciliations r")
    reports = [path.read_text() for path in (tmp_path / "reconcile-reports").rglob("*.md")]
    for key in (first_key, second_key):
        assert not [row for row in everything if key in row[0]]
        assert not [text for text in reports if key in text] and key not in output


def test_a_workers_reconciles_share_one_rate_limit_per_cloud_endpoint(
    tmp_path, reconcile_db, repo, bitbar: RunningBitbar, workers
):
    names = ["alpha", "beta"]
    _plans(repo, names)
    # Both at once (first_spread: 0s), so their requests meet in the one bucket.
    limits = "rate_limits:\n  bitbar: {per_second: 4, burst: 2}\nheartbeat_timeout: 5s\nfirst_spread: 0s\n"
    config = write_config(tmp_path, reconcile_db, _workspaces(repo, names, "1h"), limits)
    pool = workers(config)
    worker = pool.start()
    applied = "SELECT count(*) FROM labform_reconciliations WHERE outcome = 'applied'"

    def both_applied() -> bool:
        ready = _rows(reconcile_db, "SELECT to_regclass('labform_reconciliations') IS NOT NULL")[0][0]
        return bool(ready) and _rows(reconcile_db, applied)[0][0] == 2

    _until("both workspaces applied", both_applied)
    assert pool.stop(worker)[0] == 0
    starts = [r.started for r in bitbar.app.log.all()]
    assert len(starts) > 3 * (2 + 4)  # enough requests that an unlimited worker would crowd a second
    busiest = max(sum(1 for t in starts if first <= t < first + 1.0) for first in starts)
    assert busiest <= 2 + 4, f"{busiest} requests in one second"  # the burst, then four a second
