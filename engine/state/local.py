"""State in a local JSON file: atomic replace, owner-only mode, a lock file.

The write goes to a temp file in the same folder, is fsynced, then renamed
over the old file, so a crash never leaves half a state. The lock is a
``<state>.lock`` file created with O_EXCL holding who took it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from engine.errors import StateError, StateLockedError
from engine.state.model import State, StateBackend, describe_holder, lock_holder


class LocalStateBackend(StateBackend):
    def __init__(self, path: Path):
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._holding = False

    def describe(self) -> str:
        return str(self.path)

    def read(self) -> State:
        if not self.path.exists():
            return State()
        try:
            return State.from_json(self.path.read_text())
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"state file {self.path} is not valid labform state: {exc}") from None

    def _store(self, state: State) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(state.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def acquire(self, operation: str) -> None:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise StateLockedError(
                f"state {self.path} is locked: {describe_holder(self._holder() or {})}. "
                "If no labform process holds it, run 'labform force-unlock'."
            ) from None
        with os.fdopen(fd, "w") as handle:
            json.dump(lock_holder(operation), handle)
        self._holding = True

    def release(self) -> None:
        if self._holding:
            self.lock_path.unlink(missing_ok=True)
            self._holding = False

    def _holder(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.lock_path.read_text())
        except (OSError, ValueError):
            return None

    def force_unlock(self) -> dict[str, Any] | None:
        holder = self._holder()
        if not self.lock_path.exists():
            return None
        self.lock_path.unlink()
        return holder or {}
