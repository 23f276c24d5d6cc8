"""The backend contract: a snapshot plus the journal of changes since, and a lock."""

from __future__ import annotations

import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.errors import StateLockedError
from engine.state.journal import replay
from engine.state.locks import describe_holder, lock_holder
from engine.state.model import State

LOCK_RETRY = 0.25  # seconds between attempts while waiting for the lock
LOCK_NOTICE_EVERY = 10.0  # while waiting, say again who is in the way this often
# A new holder records who it is just after locking: a blocked command gives it
# this long before saying it could not tell who holds the lock.
HOLDER_PATIENCE = 1.0


class StateBackend(ABC):
    """Where state lives: a snapshot plus the journal of changes since (journal.py).

    The public interface, which only engine/state/recorder.py calls to change state
    (every other module reads, or asks the recorder)::

        read()                snapshot + journal replayed
        stamp(state, record)  the record with the serial it brings the state to
        append(record)        add one change record to the journal (O(1)); sync() makes it durable
        compact(state)        store the snapshot, empty the journal
        write(state)          a whole-state change: serial + 1, compact
        locked(op, timeout)   exclusive, released by the OS or the database if the holder dies

    A backend implements the private half: ``_load``/``_store`` (the snapshot),
    ``_journal_records``/``_journal_append``/``_journal_reset`` (the journal),
    ``_try_lock``/``release``/``force_unlock`` and ``describe``.
    """

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def _load(self) -> State:
        """The snapshot as last compacted (an empty State if there is none)."""

    @abstractmethod
    def _store(self, state: State) -> None: ...

    @abstractmethod
    def _journal_records(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    def _journal_append(self, record: dict[str, Any]) -> None:
        """Append one record, in order; durable once ``sync`` returns."""

    def append(self, record: dict[str, Any]) -> None:
        """Add one stamped change record to the journal, after every record appended before it."""
        self._journal_append(record)

    def sync(self) -> None:  # noqa: B027 (a default, not abstract: backends that commit per append need nothing)
        """Make every record appended so far durable."""

    @abstractmethod
    def _journal_reset(self) -> None:
        """Drop the journal: the snapshot just stored holds all of it."""

    def read(self) -> State:
        """The snapshot with the journal replayed over it: every change any command recorded."""
        return replay(self._load(), self._journal_records())

    def stamp(self, state: State, record: dict[str, Any]) -> dict[str, Any]:
        """The record with the serial it brings ``state`` to (and the lineage, new state included)."""
        state.lineage = state.lineage or str(uuid.uuid4())
        return {**record, "serial": state.serial + 1, "lineage": state.lineage}

    def compact(self, state: State) -> None:
        """Store the snapshot (it holds everything journalled so far), then empty the journal."""
        state.lineage = state.lineage or str(uuid.uuid4())
        self._store(state)
        self._journal_reset()

    @abstractmethod
    def _try_lock(self, holder: dict[str, Any]) -> dict[str, Any] | None:
        """Take the lock for ``holder`` (None), or say who has it ({} until that holder has recorded itself)."""

    @abstractmethod
    def release(self) -> None: ...

    @abstractmethod
    def force_unlock(self) -> dict[str, Any] | None:
        """Remove a lock whose holder vanished without it being released; returns who held it (None: unlocked)."""

    def write(self, state: State) -> None:
        """A whole-state change (state rm/mv, an accepted refresh): one serial, one snapshot."""
        state.serial += 1
        self.compact(state)

    def acquire(self, operation: str, timeout: float = 0.0) -> None:
        """Take the lock, waiting up to ``timeout`` seconds, or raise StateLockedError naming the holder.

        While waiting it tells stderr who is in the way, at once and then every
        LOCK_NOTICE_EVERY seconds, so a blocked CI job shows what it waits for.
        """
        holder = lock_holder(operation)
        started = time.monotonic()
        told: float | None = None
        while (other := self._try_lock(holder)) is not None:
            waited = time.monotonic() - started
            if waited >= timeout and (other or waited >= HOLDER_PATIENCE):
                hint = f"gave up after {timeout:g}s" if timeout else "wait for it with --lock-timeout (e.g. 5m)"
                raise StateLockedError(
                    f"state {self.describe()} is locked: {describe_holder(other)}; {hint}. "
                    "If no labform process holds it, run 'labform force-unlock'."
                )
            if other and timeout and (told is None or waited - told >= LOCK_NOTICE_EVERY):
                print(
                    f"Waiting for the state lock ({waited:.0f}s of {timeout:g}s): {describe_holder(other)}",
                    file=sys.stderr,
                    flush=True,
                )
                told = waited
            time.sleep(LOCK_RETRY)

    @contextmanager
    def locked(self, operation: str, timeout: float = 0.0) -> Iterator[None]:
        self.acquire(operation, timeout)
        try:
            yield
        finally:
            self.release()
