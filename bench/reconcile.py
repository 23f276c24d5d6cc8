"""The reconcile loop's three figures (issue 21), with the sandbox in its own process and the local PostgreSQL.

    scale   N workspaces at ``every`` on W worker processes, each an already-applied quickstart
            (one plan in a local bare repository, named apart by a variable): p95 lag of a reconcile's
            start after its scheduled time, the longest gap between two reconciles of a workspace,
            and whether any workspace was ever held by two workers at once, all read from the
            reconciliation records after the warm-up (the first round, which applies everything)
            and ``--settle`` periods more (a warm-up outlasting ``every`` leaves its early workspaces
            overdue: their first lag is the warm-up's).
    kill    K trials of SIGKILL on the worker mid-apply (the first create announced in the journal,
            the sandbox answering slowly), two workers always running: duplicates in the cloud (by
            name), and how long after the kill another worker took the workspace over, against
            the heartbeat timeout.
    drift   a workspace of R projects, some renamed by hand: the time of its plan against the
            time of a whole detect reconcile (fetch, plan, judge, the drift report written, the record).

Everything goes through the public CLI (workers are ``labform reconcile worker`` processes) except
the drift figure, timed in this process. The defaults are the issue's; this machine (2 shared
cores) runs them scaled down, e.g.:

    python bench/reconcile.py --workspaces 200 --every 60 --periods 3 --kills 5 --resources 2000
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sandbox_harness import SandboxProcess, Served  # noqa: E402
from bench.table import projects  # noqa: E402

SERVER = os.environ.get("LABFORM_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
QUICKSTART = ROOT / "plans" / "bitbar-quickstart" / "main.yaml"


def named_quickstart() -> str:
    """The quickstart with its objects named by ``var.suffix``, so workspaces sharing one account stay apart."""
    text = QUICKSTART.read_text()
    text = text.replace("name: Checkout flow", "name: Checkout ${var.suffix}")
    text = text.replace("name: Smoke phones", "name: Smoke ${var.suffix}")
    return text.replace("variables:\n", "variables:\n  suffix: one\n", 1)


@contextmanager
def database() -> Iterator[str]:
    name = f"bench_reconcile_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def bare_repository(folder: Path, files: dict[str, str]) -> Path:
    work, bare = folder / "work", folder / "plans.git"
    work.mkdir(parents=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(work)], check=True)
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    subprocess.run([*git, "-C", str(work), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "plans"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare


def write_config(folder: Path, db: str, served: Served, workspaces: dict[str, dict[str, str]], extra: str) -> Path:
    env = f"{{BITBAR_URL: '{served.settings['endpoint']}', BITBAR_API_KEY: '{served.settings['api_key']}'}}"
    lines = [f"database: {db}", extra.rstrip(), "workspaces:"]
    for name, spec in workspaces.items():
        lines.append(f"  {name}:")
        lines += [f"    {key}: {value}" for key, value in spec.items()]
        lines.append(f"    env: {env}")
    config = folder / "labform.reconcile.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    config.write_text("\n".join(line for line in lines if line) + "\n")
    return config


class Workers:
    def __init__(self, config: Path):
        self.config, self.running = config, []

    def start(self) -> subprocess.Popen[bytes]:
        with open(self.config.parent / f"worker-{len(self.running)}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "labform.engine", "reconcile", "worker", "--config", str(self.config)],
                cwd=self.config.parent,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.running.append(process)
        return process

    def by_pid(self, pid: int) -> subprocess.Popen[bytes] | None:
        return next((p for p in self.running if p.pid == pid and p.poll() is None), None)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def rows(db: str, query: str, *params: object) -> list[tuple]:
    with psycopg.connect(db) as conn:
        if not conn.execute("SELECT to_regclass('labform_reconciliations') IS NOT NULL").fetchone()[0]:
            return []
        return conn.execute(query, params).fetchall()


def until(what: str, ready: Callable[[], bool], patience: float) -> None:
    deadline = time.monotonic() + patience
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} after {patience:.0f}s")
        time.sleep(0.5)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def overlaps(db: str) -> int:
    """Workspaces any two of whose reconciliations overlapped in time (held by two at once)."""
    held = rows(
        db, "SELECT workspace, started_at, finished_at FROM labform_reconciliations ORDER BY workspace, started_at"
    )
    twice = set()
    for (name, _, end), (other, start, _) in zip(held, held[1:], strict=False):
        if name == other and (end is None or end > start):
            twice.add(name)
    return len(twice)


def scale(args: argparse.Namespace, folder: Path, sandbox: SandboxProcess) -> list[tuple[str, str]]:
    names = [f"ws-{n:04d}" for n in range(args.workspaces)]
    with database() as db:
        bare = bare_repository(folder / "scale", {"quickstart/main.yaml": named_quickstart()})
        specs = {
            name: {
                "repo": str(bare),
                "path": "quickstart",
                "every": f"{args.every}s",
                "vars": f"{{suffix: {name}}}",
                "policy": "{mode: auto}",
            }
            for name in names
        }
        config = write_config(folder / "scale", db, sandbox.clouds["bitbar"], specs, "heartbeat_timeout: 30s\n")
        pool = Workers(config)
        began = time.monotonic()
        for _ in range(args.workers):
            pool.start()
        try:
            applied = "SELECT count(DISTINCT workspace) FROM labform_reconciliations WHERE outcome = 'applied'"
            until("the warm-up (every workspace applied once)", lambda: rows(db, applied) == [(len(names),)], 3600)
            warm = time.monotonic() - began
            # A warm-up longer than ``every`` leaves every workspace applied early in it overdue when it
            # ends: its lag is the warm-up's, not the loop's. The schedules come round once meanwhile.
            time.sleep(args.settle * args.every)
            start = datetime.now(UTC)
            time.sleep(args.periods * args.every)
            end = datetime.now(UTC)
        finally:
            pool.stop_all()
        measured = rows(
            db,
            "SELECT workspace, scheduled_at, started_at, outcome FROM labform_reconciliations"
            " WHERE started_at >= %s AND started_at < %s AND outcome IS NOT NULL ORDER BY workspace, started_at",
            start,
            end,
        )
        lags = [(s - sch).total_seconds() for _, sch, s, _ in measured if sch is not None]
        outcomes = Counter(o for *_, o in measured)
        all_starts = rows(
            db, "SELECT workspace, started_at FROM labform_reconciliations ORDER BY workspace, started_at"
        )
        gaps: dict[str, float] = {}
        for (name, first), (other, second) in zip(all_starts, all_starts[1:], strict=False):
            if name == other and second >= start:
                gaps[name] = max(gaps.get(name, 0.0), (second - first).total_seconds())
        last: dict[str, datetime] = {}
        for name, started in all_starts:
            last[name] = started
        for name in names:  # a workspace not started again by the end has a gap up to the end
            gaps[name] = max(gaps.get(name, 0.0), (end - last[name]).total_seconds())
        allowed = args.every * 1.1 + 10.0  # every, its jitter (up to 10%), the 10 s lag goal
        missed = sum(1 for gap in gaps.values() if gap > allowed)
        twice = overlaps(db)
    return [
        ("workspaces / workers / every", f"{args.workspaces} / {args.workers} / {args.every:g} s"),
        ("warm-up (first round: every workspace applied)", f"{warm:.0f} s"),
        ("settling after the warm-up (not measured)", f"{args.settle} period(s), {args.settle * args.every:.0f} s"),
        ("measured window", f"{args.periods} periods, {(end - start).total_seconds():.0f} s"),
        (
            "reconciles in the window (outcomes)",
            f"{len(measured)} ({', '.join(f'{k} {v}' for k, v in outcomes.items())})",
        ),
        (
            "lag after scheduled time: p50 / p95 / max",
            f"{percentile(lags, 0.5):.2f} / {percentile(lags, 0.95):.2f} / {max(lags, default=float('nan')):.2f} s",
        ),
        ("longest gap between two reconciles of a workspace", f"{max(gaps.values()):.1f} s"),
        (f"workspaces with a gap over {allowed:.0f} s (a missed period)", str(missed)),
        ("workspaces held by two workers at once (records)", str(twice)),
    ]


INTENT = "SELECT 1 FROM labform_journal WHERE workspace = %s AND record->>'kind' = 'intent'"
TAKEN_OVER = (
    "SELECT started_at, outcome FROM labform_reconciliations"
    " WHERE workspace = %s AND started_at > %s AND outcome IS NOT NULL"
)


def one_kill(db: str, folder: Path, bare: Path, served: Served, heartbeat: float, name: str) -> tuple[float, str]:
    """A config of its own for ``name`` (a workspace never reconciled is due at once, so the workers'
    ticker queues it), two workers; the one holding it SIGKILLed once its first create is announced,
    another started: how long after the kill the heir's reconcile started, and its outcome."""
    spec = {"repo": str(bare), "path": "quickstart", "every": "1h", "vars": f"{{suffix: {name}}}"}
    config = write_config(
        folder / name, db, served, {name: {**spec, "policy": "{mode: auto}"}}, f"heartbeat_timeout: {heartbeat:g}s\n"
    )
    pool = Workers(config)
    try:
        pool.start(), pool.start()

        def announced() -> bool:
            with psycopg.connect(db) as conn:
                if not conn.execute("SELECT to_regclass('labform_journal') IS NOT NULL").fetchone()[0]:
                    return False
                return bool(conn.execute(INTENT, (name,)).fetchall())

        until(f"{name}'s first create", announced, 600)
        holder = rows(db, "SELECT worker FROM labform_reconciliations WHERE workspace = %s AND outcome IS NULL", name)
        doomed = pool.by_pid(int(holder[0][0].rsplit(":", 1)[1]))
        assert doomed is not None, holder
        doomed.kill()
        killed = datetime.now(UTC)
        doomed.wait()
        pool.start()
        until(f"{name} taken over", lambda: bool(rows(db, TAKEN_OVER, name, killed)), 600)
        started, outcome = rows(db, TAKEN_OVER, name, killed)[0]
    finally:
        pool.stop_all()
    return (started - killed).total_seconds(), outcome


def kill_trials(args: argparse.Namespace, folder: Path) -> list[tuple[str, str]]:
    names = [f"kill-{n:02d}" for n in range(args.kills)]
    heartbeat = args.heartbeat
    with (
        SandboxProcess(folder / "kill-sandbox", "--only", "bitbar", "--latency", "300ms") as slow,
        database() as db,
    ):
        bare = bare_repository(folder / "kill", {"quickstart/main.yaml": named_quickstart()})
        delays, outcomes = [], Counter()
        for name in names:
            delay, outcome = one_kill(db, folder / "kill", bare, slow.clouds["bitbar"], heartbeat, name)
            delays.append(delay)
            outcomes[outcome] += 1
        store = slow.clouds["bitbar"].store()
        project_names = Counter(p["name"] for p in store["projects"].values())
        group_names = Counter(g["displayName"] for g in store["deviceGroups"].values())
        duplicates = sum(n - 1 for n in project_names.values() if n > 1) + sum(
            n - 1 for n in group_names.values() if n > 1
        )
        missing = sum(1 for name in names if project_names.get(f"Checkout {name}", 0) != 1)
        twice = overlaps(db)
    from labform.engine.reconcile.queue import POLL, TICK

    bound = heartbeat + TICK + POLL + 1.0
    stuck = sum(1 for delay in delays if delay > bound)
    return [
        ("trials (SIGKILL on the worker mid-apply)", str(len(delays))),
        ("the heir's outcomes", ", ".join(f"{k} {v}" for k, v in outcomes.items())),
        ("duplicate remote objects (projects, device groups by name)", str(duplicates)),
        ("workspaces without exactly one project", str(missing)),
        (
            "takeover after the kill: median / max",
            f"{statistics.median(delays):.1f} / {max(delays):.1f} s (heartbeat timeout {heartbeat:g} s)",
        ),
        (f"stuck: taken over later than {bound:.0f} s (timeout + sweep tick + poll + 1 s)", str(stuck)),
        ("workspaces held by two workers at once (records)", str(twice)),
    ]


def drift(args: argparse.Namespace, folder: Path, sandbox: SandboxProcess) -> list[tuple[str, str]]:
    from labform.engine import runner
    from labform.engine.options import PlanOptions
    from labform.engine.reconcile.config import load_config
    from labform.engine.reconcile.reconciler import Reconciler, _inside
    from labform.engine.reconcile.records import Records

    served = sandbox.clouds["bitbar"]
    plan = "providers:\n  bitbar:\n    endpoint: ${env.BITBAR_URL}\n    api_key: ${env.BITBAR_API_KEY}\nresources:\n"
    plan += projects(args.resources, "drift")
    with database() as db:
        bare = bare_repository(folder / "drift", {"big/main.yaml": plan})
        config = write_config(
            folder / "drift", db, served, {"big": {"repo": str(bare), "path": "big", "policy": "{mode: auto}"}}, ""
        )
        loaded = load_config(config)
        reconciler = Reconciler(loaded, Records(db))
        first = reconciler.reconcile("big")
        assert first.outcome == "applied", (first.outcome, first.error)
        listed = httpx.get(
            f"{served.url}/api/v2/me/projects",
            params={"limit": args.resources + args.workspaces},
            auth=(served.settings["api_key"], ""),
            headers={"Accept": "application/json"},
        ).json()["data"]
        edited = [p for p in listed if p["name"].startswith("drift")][: args.edits]  # not the scale part's
        for project in edited:
            httpx.post(
                f"{served.url}/api/v2/me/projects/{project['id']}",
                data={"name": project["name"] + "-by-hand"},
                auth=(served.settings["api_key"], ""),
                headers={"Accept": "application/json"},
            ).raise_for_status()
        config.write_text(config.read_text().replace("{mode: auto}", "{mode: detect}"))
        reconciler = Reconciler(load_config(config), Records(db))
        spec = reconciler.loaded.workspace("big")
        plans, reconciles, reports = [], [], []
        for _ in range(args.repeats):
            with _inside(reconciler.clone_of("big"), {k: str(v) for k, v in spec.env.items()}):
                began = time.perf_counter()
                runner.plan(reconciler._workspace("big", spec), PlanOptions())
                plans.append(time.perf_counter() - began)
            began = time.perf_counter()
            item = reconciler.reconcile("big")
            reconciles.append(time.perf_counter() - began)
            assert item.outcome == "drift" and len(item.drift) == len(edited), (item.outcome, len(item.drift))
            reports.append(Path(str(item.report)).stat().st_size)
    plan_s, whole_s = statistics.median(plans), statistics.median(reconciles)
    return [
        ("resources / edited by hand", f"{args.resources} / {len(edited)}"),
        (f"plan (refresh of every resource), median of {args.repeats}", f"{plan_s:.2f} s"),
        ("detect reconcile with its drift report written, median", f"{whole_s:.2f} s"),
        ("reconcile with report / plan (goal <= 2)", f"{whole_s / plan_s:.2f}"),
        ("drift report size", f"{reports[-1] / 1024:.0f} KiB"),
    ]


def table(title: str, figures: list[tuple[str, str]]) -> str:
    lines = [f"### {title}", "", "| figure | value |", "| --- | ---: |"]
    return "\n".join(lines + [f"| {what} | {value} |" for what, value in figures]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--every", type=float, default=300.0, help="seconds between reconciles of a workspace")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--periods", type=int, default=2, help="periods measured after the warm-up")
    parser.add_argument(
        "--settle", type=int, default=1, help="periods let pass between the warm-up and the measured window"
    )
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--heartbeat", type=float, default=10.0, help="heartbeat timeout of the kill trials (s)")
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=100, help="projects renamed by hand before the drift figure")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=("scale", "kill", "drift"), action="append")
    args = parser.parse_args()
    parts = args.only or ["scale", "kill", "drift"]
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        folder = Path(tmp)
        with SandboxProcess(folder / "sandbox", "--only", "bitbar") as sandbox:
            if "scale" in parts:
                print(table("scale", scale(args, folder, sandbox)), flush=True)
            if "drift" in parts:
                print(table("drift report", drift(args, folder, sandbox)), flush=True)
        if "kill" in parts:
            print(table("SIGKILL trials", kill_trials(args, folder)), flush=True)


if __name__ == "__main__":
    main()
