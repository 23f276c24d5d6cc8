"""``labform state rekey``, ``state encrypt`` and ``state decrypt``: the state rewritten whole, under the lock.

Each reads the state as it is (with the current key or the fallback, or in plain), then
writes it again through the recorder (one serial): with the current key (rekey, encrypt)
or unencrypted (decrypt, only with ``--allow-plaintext`` and never while enforced). With
``force_rollback`` a state older than the high-water mark is accepted; the acceptance is
a journal record and stays in the mark. Rekey and encrypt also wrap the state's test
history's data key under the history target's current method (history/store.py: rekey),
so after a rotation the old key reads nothing of the workspace's any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from labform.engine.encryption.errors import EncryptionError
from labform.engine.history import HistoryStore, open_history
from labform.engine.state import open_backend
from labform.engine.state.recorder import StateRecorder

if TYPE_CHECKING:
    from labform.engine.encryption.highwater import Mark
    from labform.engine.runner import Workspace


@dataclass
class Rewritten:
    where: str | None  # the state rewritten; None: no state target, the state left as it is
    serial: int
    sealed_with: str | None  # "aes_gcm, key provider pbkdf2.main"; None: written in plain
    accepted: Mark | None  # the mark a -force-rollback went past
    history: str | None = None  # "test history in ..., key provider pbkdf2.new"; None: no encrypted history


def rewrite(ws: Workspace, plaintext: bool = False, force_rollback: bool = False) -> Rewritten:
    """The state read and written again: sealed with the current key, or (``plaintext``) unencrypted;
    sealing, the history's data key wrapped under its current key too."""
    backend = open_backend(ws.state_location(), ws.path, force_rollback)
    target = backend.encryption
    history = None if plaintext else open_history(ws.state_location(), ws.path)
    if target is None:
        if history is not None and history.encryption is not None:
            return Rewritten(None, 0, None, None, _rekeyed(history))
        raise EncryptionError(
            "no state encryption is configured: add 'state: {method: ...}' to the plan's encryption: block "
            "or to LABFORM_ENCRYPTION"
        )
    if plaintext and target.enforced:
        raise EncryptionError("the state's encryption is enforced: remove 'enforced: true' before decrypting it")
    with backend.locked("state rekey", ws.lock_timeout):
        state = backend.read()  # first: a wrong key or a rollback is refused before anything is written
        accepted = backend.rolled_back
        history_key = None if history is None else _rekeyed(history)
        if plaintext:
            backend.plaintext()
        recorder = StateRecorder(state, backend)
        recorder.accept_rollback()
        recorder.finish()
    sealed_with = None if plaintext else target.describe()
    return Rewritten(backend.describe(), state.serial, sealed_with, accepted, history_key)


def _rekeyed(store: HistoryStore) -> str | None:
    provider = store.rekey()
    return None if provider is None else f"{store.describe()}, key provider {provider}"
