"""State in a local JSON file: atomic replace, owner-only mode, a lock file.

The write goes to a temp file in the same folder, is fsynced, then renamed
over the old file (engine/diskwrite.py), so neither a crash nor a full disk
ever leaves half a state. Changes between snapshots are appended to
``<state>.journal`` (journal.py). The lock is an flock on ``<state>.lock``,
which the OS releases if the holder dies (locks.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import diskwrite
from engine.errors import StateError
from engine.state.backend import StateBackend
from engine.state.journal import FileJournal
from engine.state.locks import LockFile
from engine.state.model import State


class LocalStateBackend(StateBackend):
    def __init__(self, path: Path):
        self.path = path
        self._lock = LockFile(path.with_name(path.name + ".lock"))
        self._journal = FileJournal(path.with_name(path.name + ".journal"))

    def describe(self) -> str:
        return str(self.path)

    def _journal_records(self) -> list[dict[str, Any]]:
        return self._journal.read()

    def _journal_append(self, record: dict[str, Any]) -> None:
        self._journal.write(record)

    def sync(self) -> None:
        self._journal.sync()

    def _journal_reset(self) -> None:
        self._journal.reset()

    def _load(self) -> State:
        if not self.path.exists():
            return State()
        try:
            return State.from_json(self.path.read_text())
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"state file {self.path} is not valid labform state: {exc}") from None

    def _store(self, state: State) -> None:
        diskwrite.replace(self.path, state.to_json())

    def _try_lock(self, holder: dict[str, Any]) -> dict[str, Any] | None:
        return self._lock.try_lock(holder)

    def release(self) -> None:
        self._lock.release()

    def force_unlock(self) -> dict[str, Any] | None:
        return self._lock.force_unlock()
