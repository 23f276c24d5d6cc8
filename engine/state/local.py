"""State in a local JSON file: atomic replace, owner-only mode, a lock file.

The write goes to a temp file in the same folder, is fsynced, then renamed
over the old file (engine/diskwrite.py), so neither a crash nor a full disk
ever leaves half a state. Changes between snapshots are appended to
``<state>.journal`` (journal.py). The lock is an flock on ``<state>.lock``,
which the OS releases if the holder dies (locks.py).

Encrypted (engine/encryption), the snapshot is a sealed file, each journal line a
sealed record chained to the one before, and ``<state>.highwater`` the sealed
high-water mark.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from labform.engine import diskwrite
from labform.engine.encryption import envelope
from labform.engine.encryption.errors import EncryptionError
from labform.engine.errors import StateError
from labform.engine.state.backend import StateBackend
from labform.engine.state.journal import FileJournal
from labform.engine.state.locks import LockFile
from labform.engine.state.model import State

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target


class LocalStateBackend(StateBackend):
    def __init__(self, path: Path, encryption: Target | None = None):
        self.path = path
        self.encryption = encryption
        self._lock = LockFile(path.with_name(path.name + ".lock"))
        journal_path = path.with_name(path.name + ".journal")
        self._journal = FileJournal(journal_path)
        if encryption is not None:
            from labform.engine.encryption.records import RecordChain

            self._journal.chain = RecordChain(
                encryption, str(journal_path), lambda: self.refuse_plaintext("the journal of state")
            )
        self._mark_path = path.with_name(path.name + ".highwater")

    def plaintext(self) -> None:
        super().plaintext()
        self._journal.chain = None

    def describe(self) -> str:
        return str(self.path)

    def _journal_records(self) -> list[dict[str, Any]]:
        return self._journal.read()

    def _journal_append(self, record: dict[str, Any]) -> None:
        self._journal.write(record)

    def _journal_sync(self) -> None:
        self._journal.sync()

    def _journal_reset(self) -> None:
        self._journal.reset()

    def _load(self) -> State:
        if not self.path.exists():
            return State()
        text = self.path.read_text()
        if envelope.is_sealed_text(text):
            try:
                document = envelope.from_text(text)
            except ValueError:
                raise EncryptionError(f"state {self.path} is tampered: its encrypted document is damaged") from None
            text = self.opened_snapshot(document)
        else:
            self.refuse_plaintext("state")
        try:
            return State.from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"state file {self.path} is not valid labform state: {exc}") from None

    def _store(self, state: State) -> None:
        sealed = self.sealed_snapshot(state)
        diskwrite.replace(self.path, state.to_json() if sealed is None else envelope.to_text(sealed))

    def _mark_load(self) -> Any:
        if not self._mark_path.exists():
            return None
        try:
            return envelope.from_text(self._mark_path.read_text())
        except ValueError:
            raise EncryptionError(f"the high-water mark {self._mark_path} is tampered: it is damaged") from None

    def _mark_store(self, document: dict[str, Any]) -> None:
        diskwrite.replace(self._mark_path, envelope.to_text(document))

    def _mark_drop(self) -> None:
        self._mark_path.unlink(missing_ok=True)

    def _try_lock(self, holder: dict[str, Any]) -> dict[str, Any] | None:
        return self._lock.try_lock(holder)

    def release(self) -> None:
        self._lock.release()

    def force_unlock(self) -> dict[str, Any] | None:
        return self._lock.force_unlock()
