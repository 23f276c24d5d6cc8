"""The backend contract: a snapshot plus the journal of changes since, and a lock."""

from __future__ import annotations

import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from labform.engine.errors import StateLockedError
from labform.engine.state.journal import replay
from labform.engine.state.locks import describe_holder, lock_holder
from labform.engine.state.model import State

if TYPE_CHECKING:  # encryption is loaded only when it is configured
    from labform.engine.encryption.highwater import Mark
    from labform.engine.encryption.target import Target

LOCK_RETRY = 0.25  # seconds between attempts while waiting for the lock
LOCK_NOTICE_EVERY = 10.0  # while waiting, say again who is in the way this often
# A new holder records who it is just after locking: a blocked command gives it
# this long before saying it could not tell who holds the lock.
HOLDER_PATIENCE = 1.0


class _MarkStore(Protocol):
    def load(self, name: str) -> Any: ...
    def store(self, name: str, document: dict[str, Any]) -> None: ...
    def drop(self, name: str) -> None: ...


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
    ``_try_lock``/``release``/``force_unlock`` and ``describe``; with encryption also
    ``_mark_load``/``_mark_store``/``_mark_drop`` (the high-water mark, unless the target's
    ``keeper`` keeps it elsewhere: engine/encryption/keeper.py).

    With ``encryption`` (a target of engine/encryption) every snapshot, journal record and
    the high-water mark are sealed; ``read`` refuses a state older than the mark or of
    another lineage unless ``force_rollback`` (then ``rolled_back`` holds the mark it
    went past, for the caller to record). Without it nothing here changes.
    """

    encryption: Target | None = None
    force_rollback = False
    # Set by ``plaintext()`` (state decrypt): writes go out unencrypted and the mark is dropped.
    writes_plaintext = False
    rolled_back: Mark | None = None
    _mark: Mark | None = None
    _appended: tuple[str, int] | None = None

    def sealing(self) -> Target | None:
        """The target writes are sealed with (None: they are written in plain)."""
        return None if self.writes_plaintext else self.encryption

    def plaintext(self) -> None:
        """From now on write unencrypted (``state decrypt --allow-plaintext``): the journal too."""
        self.writes_plaintext = True

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
        self._appended = (record["lineage"], record["serial"])

    def sync(self) -> None:
        """Make every record appended so far durable, then raise the high-water mark to the last of them."""
        self._journal_sync()
        if self._appended is not None:
            self._raise_mark(*self._appended)

    def _journal_sync(self) -> None:  # noqa: B027 (a default, not abstract: backends that commit per append need nothing)
        """Make every journal record appended so far durable."""

    def _mark_load(self) -> Any:
        """The stored high-water mark document (None: none yet)."""
        return None

    def _mark_store(self, document: dict[str, Any]) -> None:  # noqa: B027 (only an encrypting backend keeps one)
        """Store the high-water mark document."""

    def _mark_drop(self) -> None:  # noqa: B027
        """Remove the high-water mark (the state is plaintext again)."""

    def _marks(self) -> _MarkStore:
        """Where the mark is kept: through the target's program (keeper.py), else beside the state."""
        keeper = self.encryption.keeper if self.encryption else None
        return keeper or _BesideTheState(self)

    def _read_mark(self) -> Mark | None:
        from labform.engine.encryption import highwater

        if self.encryption is None:
            return None
        document = self._marks().load(self.describe())
        if document is None:
            return None
        return highwater.opened(document, self.encryption, self.describe())

    def _raise_mark(self, lineage: str, serial: int) -> None:
        """After a write: the mark follows the state up (down only past an accepted rollback)."""
        target = self.sealing()
        if target is None:
            return
        from labform.engine.encryption import highwater

        mark = self._mark
        if self.rolled_back is not None:
            mark = self.rolled_back.accepting(State(serial=serial, lineage=lineage))
            self.rolled_back = None
        elif mark is not None and mark.lineage == lineage and mark.serial >= serial:
            return
        else:
            mark = highwater.Mark(lineage, serial, mark.forced if mark else [])
        self._marks().store(self.describe(), highwater.sealed(mark, target))
        self._mark = mark

    def refuse_plaintext(self, what: str) -> None:
        """A plaintext snapshot or journal read where encryption is configured: refused when enforced,
        or when this backend's mark shows it wrote the state encrypted (someone replaced it)."""
        from labform.engine.encryption.errors import EncryptionError

        target = self.encryption
        if target is None:
            return
        if target.enforced:
            raise EncryptionError(f"{what} {self.describe()} is not encrypted, and the state's encryption is enforced")
        self._mark = self._read_mark()
        if self._mark is not None and not self.force_rollback:
            raise EncryptionError(
                f"{what} {self.describe()} is not encrypted, but this backend wrote it encrypted up to serial "
                f"{self._mark.serial} (its high-water mark): it was replaced. Restore it, or accept it on purpose "
                "with 'labform state rekey -force-rollback'"
            )

    def opened_snapshot(self, document: Any) -> str:
        """The JSON text of a sealed snapshot document."""
        from labform.engine.encryption.errors import EncryptionError

        if self.encryption is None:
            from labform.engine.encryption import envelope

            raise EncryptionError(
                f"state {self.describe()} is encrypted ({envelope.describe(document)}), but no encryption is "
                "configured: add the plan's encryption: block, or set LABFORM_ENCRYPTION"
            )
        return self.encryption.open(document, f"state {self.describe()}").decode()

    def sealed_snapshot(self, state: State) -> dict[str, Any] | None:
        """The snapshot as a sealed document (None: written in plain)."""
        target = self.sealing()
        if target is None:
            return None
        return target.seal("state", state.to_json().encode(), {"lineage": state.lineage, "serial": state.serial})

    @abstractmethod
    def _journal_reset(self) -> None:
        """Drop the journal: the snapshot just stored holds all of it."""

    def read(self) -> State:
        """The snapshot with the journal replayed over it: every change any command recorded.

        Encrypted: refused if older than the high-water mark or of another lineage."""
        if self.encryption is None:
            return replay(self._load(), self._journal_records())
        from labform.engine.encryption import highwater
        from labform.engine.encryption.errors import EncryptionError

        self._mark = None
        snapshot = self._load()  # first: a wrong key is reported for the state itself
        self._mark = self._mark or self._read_mark()
        state = replay(snapshot, self._journal_records())
        why = highwater.problem(self._mark, state, self.describe()) if self._mark else None
        if why and not self.force_rollback:
            raise EncryptionError(why)
        self.rolled_back = self._mark if why else None
        return state

    def stamp(self, state: State, record: dict[str, Any]) -> dict[str, Any]:
        """The record with the serial it brings ``state`` to (and the lineage, new state included)."""
        state.lineage = state.lineage or str(uuid.uuid4())
        return {**record, "serial": state.serial + 1, "lineage": state.lineage}

    def compact(self, state: State) -> None:
        """Store the snapshot (it holds everything journalled so far), then empty the journal."""
        state.lineage = state.lineage or str(uuid.uuid4())
        self._store(state)
        self._journal_reset()
        if self.writes_plaintext:
            self._marks().drop(self.describe())
            self._mark = None
        else:
            self._raise_mark(state.lineage, state.serial)

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


class _BesideTheState:
    """The backend's own mark storage (a file beside a local state, a PostgreSQL row), as a _MarkStore."""

    def __init__(self, backend: StateBackend):
        self.backend = backend

    def load(self, name: str) -> Any:
        return self.backend._mark_load()

    def store(self, name: str, document: dict[str, Any]) -> None:
        self.backend._mark_store(document)

    def drop(self, name: str) -> None:
        self.backend._mark_drop()
