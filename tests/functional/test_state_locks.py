"""State locks that cannot be stranded: held by real processes, killed with SIGKILL, waited for.

A holder is a separate Python process that takes the lock through the
backend API and sleeps; the commands under test run in-process. The plan has
no resources, so no cloud (and no emulator) is involved.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from labform.engine.state import LocalStateBackend
from tests.fixtures.postgres import SERVER

ROOT = Path(__file__).resolve().parents[2]
CI_VARIABLES = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "CI_JOB_URL", "BUILD_URL")
PLAN = """
variables:
  team: mobile
outputs:
  team: ${var.team}
"""
HOLDER = """
import sys, time
from labform.engine.state import open_backend
backend = open_backend(sys.argv[1])
backend.acquire("apply")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
backend.release()
"""
# Every command that takes the lock, as run against a plan folder.
LOCKING_COMMANDS = [
    ["plan"],
    ["apply", "--auto-approve"],
    ["destroy", "--auto-approve"],
    ["refresh"],
    ["state", "rm", "memory_thing.a"],
    ["state", "mv", "memory_thing.a", "memory_thing.b"],
]


@pytest.fixture
def hold_lock():
    """Start a process holding the lock on a state location for ``seconds``, with extra environment."""
    started: list[subprocess.Popen] = []

    def start(location: str, seconds: float = 60, env: dict[str, str] | None = None) -> subprocess.Popen:
        environment = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES} | (env or {})
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, location, str(seconds)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout.readline() == "locked\n", "the holder did not get the lock"
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()
        process.stdout.close()


@pytest.fixture
def lock_plan(workdir):
    workdir.write(PLAN)
    return workdir


def _kill(process: subprocess.Popen) -> None:
    process.kill()  # SIGKILL: no finally, no atexit, nothing of labform's runs
    process.wait()


def test_apply_proceeds_at_once_after_the_holder_was_killed(lock_plan, hold_lock):
    """A SIGKILLed holder leaves its lock file, but the OS dropped its flock: the next apply takes it over."""
    holder = hold_lock(str(lock_plan.state_file))
    _kill(holder)
    lock = lock_plan.path / "labform.state.json.lock"
    assert json.loads(lock.read_text())["pid"] == holder.pid

    started = time.monotonic()
    result = lock_plan.apply()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 2
    assert f"took over the state lock of a process that is gone (held by pid {holder.pid}" in result.stderr
    assert not lock.exists()


def test_every_locking_command_is_refused_naming_the_holder_and_its_ci_job(lock_plan, hold_lock):
    """While a holder runs in a GitHub Actions job, each locking command fails at once with its pid, host, operation and run URL."""
    github = {
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "mobile/checkout",
        "GITHUB_RUN_ID": "4242",
    }
    holder = hold_lock(str(lock_plan.state_file), env=github)
    for command in LOCKING_COMMANDS:
        started = time.monotonic()
        result = lock_plan.run(*command, str(lock_plan.path))
        assert result.exit_code == 1, (command, result.output)
        assert time.monotonic() - started < 2, command
        assert f"held by pid {holder.pid} on {socket.gethostname()}" in result.stderr, command
        assert "for 'apply'" in result.stderr
        assert "CI job https://github.example/mobile/checkout/actions/runs/4242" in result.stderr
        assert "wait for it with --lock-timeout" in result.stderr


def test_lock_timeout_waits_until_the_holder_releases(lock_plan, hold_lock):
    """With --lock-timeout 5s a plan blocked by a holder that finishes after ~1 s says who it waits for, then succeeds."""
    holder = hold_lock(str(lock_plan.state_file), seconds=1)
    started = time.monotonic()
    result = lock_plan.plan("--lock-timeout", "5s")
    waited = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert 0.5 < waited < 5
    assert f"Waiting for the state lock (0s of 5s): held by pid {holder.pid}" in result.stderr
    assert result.stderr.count("Waiting for the state lock") == 1  # once, not every retry


def test_lock_timeout_gives_up_naming_the_holder(lock_plan, hold_lock):
    """A holder that keeps the lock past -lock-timeout=1s (Terraform's spelling) fails the command after about that long."""
    holder = hold_lock(str(lock_plan.state_file))
    started = time.monotonic()
    result = lock_plan.run("state", "rm", "memory_thing.a", str(lock_plan.path), "-lock-timeout=1s")
    assert result.exit_code == 1
    assert 1 <= time.monotonic() - started < 3
    assert f"held by pid {holder.pid}" in result.stderr
    assert "gave up after 1s" in result.stderr


def test_force_unlock_refuses_a_live_holder_on_this_host_and_clears_a_dead_ones_file(lock_plan, hold_lock):
    """force-unlock will not pull the lock from under a running process here; the file a killed one left, it removes."""
    holder = hold_lock(str(lock_plan.state_file))
    refused = lock_plan.run("force-unlock", str(lock_plan.path))
    assert refused.exit_code == 1
    assert f"held by pid {holder.pid}" in refused.stderr
    assert "a live process on this host: stop it instead" in refused.stderr

    _kill(holder)
    removed = lock_plan.run("force-unlock", str(lock_plan.path))
    assert removed.exit_code == 0, removed.output
    assert f"Removed the lock held by pid {holder.pid} on {socket.gethostname()}" in removed.stdout
    assert not (lock_plan.path / "labform.state.json.lock").exists()


def test_force_unlock_frees_a_lock_whose_holder_vanished_on_another_host(lock_plan):
    """A holder elsewhere (a dead NFS client whose server kept its flock) cannot be checked: force-unlock removes its file, the next plan locks a new one."""
    vanished = LocalStateBackend(lock_plan.state_file)
    vanished.acquire("apply")
    lock = lock_plan.path / "labform.state.json.lock"
    lock.write_text(json.dumps({"pid": 4711, "host": "nfs-client-7", "time": "then", "operation": "apply"}))
    try:
        assert "held by pid 4711 on nfs-client-7" in lock_plan.plan().stderr
        removed = lock_plan.run("force-unlock", str(lock_plan.path))
        assert "Removed the lock held by pid 4711 on nfs-client-7" in removed.stdout
        result = lock_plan.plan()
        assert result.exit_code == 0, result.output
    finally:
        vanished.release()
    assert not lock.exists()


def _wait_until_session_is_gone(state_location: str) -> None:
    """The server notices a killed client's closed socket and ends its session; wait for that (it leaves the lock row)."""
    workspace = state_location.rsplit("=", 1)[1]
    with psycopg.connect(SERVER, autocommit=True) as conn:
        (backend,) = conn.execute("SELECT backend FROM labform_locks WHERE workspace = %s", (workspace,)).fetchone()
        deadline = time.monotonic() + 5
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed holder's session is still open"
            time.sleep(0.05)


def test_postgres_lock_of_a_killed_holder_goes_with_its_session(lock_plan, hold_lock, state_url):
    """After kill -9 the holder's row is still in labform_locks, but its session and lock are gone: nothing to unlock, plan proceeds."""
    holder = hold_lock(state_url)
    _kill(holder)
    _wait_until_session_is_gone(state_url)
    assert lock_plan.run("force-unlock", str(lock_plan.path), "--state", state_url).stdout == "State is not locked.\n"
    started = time.monotonic()
    result = lock_plan.plan("--state", state_url)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 2


def test_postgres_second_command_is_refused_naming_the_holder_and_its_ci_job(lock_plan, hold_lock, state_url):
    """A runner in a GitLab job holds the advisory lock: a plan on the same workspace fails at once naming it."""
    holder = hold_lock(state_url, env={"CI_JOB_URL": "https://gitlab.example/mobile/-/jobs/77"})
    started = time.monotonic()
    result = lock_plan.plan("--state", state_url)
    assert result.exit_code == 1
    assert time.monotonic() - started < 2
    assert f"held by pid {holder.pid} on {socket.gethostname()}" in result.stderr
    assert "for 'apply'" in result.stderr
    assert "CI job https://gitlab.example/mobile/-/jobs/77" in result.stderr


def test_postgres_lock_timeout_waits_until_the_holder_releases(lock_plan, hold_lock, state_url):
    """-lock-timeout=5s retries pg_try_advisory_lock until the holder lets go after ~1 s."""
    holder = hold_lock(state_url, seconds=1)
    started = time.monotonic()
    result = lock_plan.plan("--state", state_url, "-lock-timeout=5s")
    assert result.exit_code == 0, result.output
    assert 0.5 < time.monotonic() - started < 5
    assert f"Waiting for the state lock (0s of 5s): held by pid {holder.pid}" in result.stderr
