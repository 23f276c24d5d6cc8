"""Who holds a state lock, and the local lock: an flock the OS drops when its holder dies.

The local lock is ``fcntl.flock`` on ``<state>.lock``, kept open as long as
the lock is held. The kernel releases it however the holder ends (SIGKILL,
OOM, a runner torn down), so a crash can no longer strand the lock: a lock
file whose flock nobody holds is what a dead holder left behind, and the
next command takes it over.

Right after taking the lock the holder writes who it is into the file (pid,
host, user, time, operation, lock id, CI job), for a blocked command to name.
On release the holder removes the file while it still holds the flock; a
command that opened the old file meanwhile notices it is no longer the one at
that path and locks the new one, so two processes never each hold a lock on
a different file.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import logging
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from labform.engine.diskwrite import write_failed
from labform.engine.errors import StateError, StateLockedError

log = logging.getLogger(__name__)


def ci_job() -> str | None:
    """The CI job this process runs in, as a link someone blocked by it can open."""
    env = os.environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return env.get("CI_JOB_URL") or env.get("BUILD_URL") or None  # GitLab, Jenkins


def lock_holder(operation: str) -> dict[str, Any]:
    holder = {
        "id": str(uuid.uuid4()),
        "operation": operation,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "user": getpass.getuser(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    job = ci_job()
    if job:
        holder["ci_job"] = job
    return holder


def describe_holder(holder: dict[str, Any]) -> str:
    if not holder:
        return "held by a process that has not recorded who it is"
    text = (
        f"held by pid {holder.get('pid')} on {holder.get('host')} ({holder.get('user')}) "
        f"since {holder.get('time')} for '{holder.get('operation')}', lock id {holder.get('id')}"
    )
    return text + (f", CI job {holder['ci_job']}" if holder.get("ci_job") else "")


def alive_here(holder: dict[str, Any]) -> bool:
    """Whether the holder is a running process on this host; one elsewhere cannot be checked."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive all the same
    return True


class LockFile:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def try_lock(self, holder: dict[str, Any]) -> dict[str, Any] | None:
        """Take the lock and record ``holder`` in it (None); if another process has it, who ({} until it has written)."""
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise write_failed(self.path, exc) from None
            try:
                locked = self._flock(fd)
            except StateError:
                os.close(fd)
                raise
            if not locked:
                other = _read(fd)
                os.close(fd)
                return other
            if _still_named(fd, self.path):
                break
            os.close(fd)  # its holder removed it after we opened it: lock the file now at that path
        left = _read(fd)
        if left:
            log.warning("took over the state lock of a process that is gone (%s)", describe_holder(left))
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
        except OSError as exc:
            self._fd = fd
            self.release()  # no lock file left behind, empty or half-written
            raise write_failed(self.path, exc) from None
        self._fd = fd
        return None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if _still_named(fd, self.path):  # else force-unlock removed it and the path is someone else's
                self.path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def force_unlock(self) -> dict[str, Any] | None:
        """Remove the lock file; returns who held it, or None when there is none.

        An unheld file is only a dead holder's leftover. A held one normally
        means a live holder, and then only one that cannot be checked is
        unlocked under it: a process on another host (a vanished NFS client
        whose server kept its lock), or one whose pid is gone. A live process
        on this host is refused: stopping it releases its lock, and removing
        the file under it would let a second command run beside it.
        """
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            holder = _read(fd)
            if not self._flock(fd) and alive_here(holder):
                raise StateLockedError(
                    f"state lock {self.path} is {describe_holder(holder)}, a live process on this host: "
                    "stop it instead (its lock goes with it)"
                )
            if _still_named(fd, self.path):
                self.path.unlink(missing_ok=True)
            return holder
        finally:
            os.close(fd)

    def _flock(self, fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:  # e.g. a network filesystem without locking
            raise StateError(f"cannot lock {self.path}: {exc.strerror}") from None
        return True


def _read(fd: int) -> dict[str, Any]:
    """The holder written in the lock file; {} while it is still being written."""
    try:
        holder = json.loads(os.pread(fd, 65536, 0))
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _still_named(fd: int, path: Path) -> bool:
    """Whether ``path`` is still the file open as ``fd`` (a releasing holder removes it)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False
