"""The README's GitOps walkthrough, run as written: its blocks are read out of README.md, so the
test fails when the README changes without it.

The setup block (a sandbox on its documented port, a git repository, the config), the two
commands (one reconcile now; then the worker, left running as a reader would), and the
documented curl: the hand edit must show up as drift in the worker's next reconcile and,
under ``auto``, be repaired. One thing is changed, and checked to be there first: the
README's database URL becomes a throwaway database, so the test never touches a shared one.
The waits poll the database, bounded, for a state of affairs (nothing is timed)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.functional import test_reconcile_kit as kit
from tests.functional.test_readme_commands import REPO, fresh_checkout, run_in_bash, runner_env

reconcile_db = kit.reconcile_db  # the kit's fixture, used here
README_DATABASE = "postgresql://postgres@127.0.0.1:5432/labform"
SANDBOX = "http://127.0.0.1:18555"
PATIENCE = 240.0  # seconds: the worker's next reconcile is a minute (and its jitter) away


def section_blocks() -> list[str]:
    """The fenced sh blocks of the README's GitOps section, in order."""
    text = (REPO / "README.md").read_text()
    start = text.index("\n## GitOps reconciliation\n")
    end = text.index("\n## ", start + 1)
    return re.findall(r"^```sh\n(.*?)^```$", text[start:end], flags=re.MULTILINE | re.DOTALL)


class Background:
    """Processes the walkthrough leaves running (the sandbox, the worker), each in a session of
    its own so the whole of it can be ended, whatever happens."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, script: str, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-eo", "pipefail", "-c", script],
                cwd=cwd,
                env=runner_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def end_all(self) -> None:
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):  # every one of its session: the sandbox bash left behind
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def background() -> Iterator[Background]:
    made = Background()
    yield made
    made.end_all()


def _until(what: str, ready) -> None:
    deadline = time.monotonic() + PATIENCE
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _rows(database: str, query: str) -> list[tuple]:
    with psycopg.connect(database) as conn:
        if not conn.execute("SELECT to_regclass('labform_reconciliations') IS NOT NULL").fetchone()[0]:
            return []
        return conn.execute(query).fetchall()


def test_the_readme_walkthrough_finds_the_hand_edit_as_drift_and_repairs_it(tmp_path, reconcile_db, background):
    setup, commands, edit = section_blocks()
    assert README_DATABASE in setup
    assert not _listening(18555), "port 18555 (the README's sandbox) is taken: stop what serves it"
    checkout = fresh_checkout(tmp_path / "labform")
    sandbox = background.start(setup.replace(README_DATABASE, reconcile_db), checkout, tmp_path / "setup.log")
    assert sandbox.wait(timeout=120) == 0, (tmp_path / "setup.log").read_text()  # the sandbox goes on in the background
    _until("the sandbox to listen on 18555", lambda: _listening(18555))

    now, worker_command = [line for line in commands.splitlines() if line.strip()]
    assert (now, worker_command) == ("labform reconcile now quickstart", "labform reconcile worker")
    first = run_in_bash(now, checkout, runner_env())
    assert first.returncode == 0 and " quickstart: applied at " in first.stdout, first.stdout + first.stderr
    worker_log = tmp_path / "worker.log"
    worker = background.start(worker_command, checkout, worker_log)

    edited = run_in_bash(edit, checkout, runner_env())
    assert edited.returncode == 0, edited.stdout + edited.stderr
    query = "SELECT id, outcome, drift, report FROM labform_reconciliations WHERE drift <> '[]' ORDER BY id"
    _until("the worker's next reconcile to find the hand edit", lambda: bool(_rows(reconcile_db, query)))
    [(number, outcome, drift, report)] = _rows(reconcile_db, query)
    assert outcome == "applied"  # auto: repaired in the same reconcile
    assert drift == [
        {
            "address": "bitbar_device_group.smoke",
            "reason": "changed outside labform",
            "attributes": {"name": {"old": "Smoke phones", "new": "Hand-edited"}},
        }
    ]
    assert Path(report) == checkout / "reconcile-reports" / "quickstart" / f"{number}.md"
    assert '| `name` | `"Smoke phones"` | `"Hand-edited"` |' in Path(report).read_text()
    groups = httpx.get(
        f"{SANDBOX}/api/v2/me/device-groups", auth=("sandbox-bitbar-key", ""), headers={"Accept": "application/json"}
    ).json()["data"]
    assert [g["displayName"] for g in groups] == ["Smoke phones"]

    os.kill(worker.pid, signal.SIGTERM)  # bash runs the one command in its own place (exec)
    assert worker.wait(timeout=60) == 0, worker_log.read_text()
    assert "Worker stopped." in worker_log.read_text()
    status = run_in_bash("labform reconcile status quickstart", checkout, runner_env())
    assert status.returncode == 0 and f"#{number} quickstart: applied" in status.stdout, status.stdout
