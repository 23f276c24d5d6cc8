"""``labform state rekey``, ``state encrypt`` and ``state decrypt``: the state rewritten whole, under the lock.

Each reads the state as it is (with the current key or the fallback, or in plain), then
writes it again through the recorder (one serial): with the current key (rekey, encrypt)
or unencrypted (decrypt, only with ``--allow-plaintext`` and never while enforced). With
``force_rollback`` a state older than the high-water mark is accepted; the acceptance is
a journal record and stays in the mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from labform.engine.encryption.errors import EncryptionError
from labform.engine.state import open_backend
from labform.engine.state.recorder import StateRecorder

if TYPE_CHECKING:
    from labform.engine.encryption.highwater import Mark
    from labform.engine.runner import Workspace


@dataclass
class Rewritten:
    where: str
    serial: int
    sealed_with: str | None  # "aes_gcm, key provider pbkdf2.main"; None: written in plain
    accepted: Mark | None  # the mark a -force-rollback went past


def rewrite(ws: Workspace, plaintext: bool = False, force_rollback: bool = False) -> Rewritten:
    """The state read and written again: sealed with the current key, or (``plaintext``) unencrypted."""
    backend = open_backend(ws.state_location(), ws.path, force_rollback)
    target = backend.encryption
    if target is None:
        raise EncryptionError(
            "no state encryption is configured: add 'state: {method: ...}' to the plan's encryption: block "
            "or to LABFORM_ENCRYPTION"
        )
    if plaintext and target.enforced:
        raise EncryptionError("the state's encryption is enforced: remove 'enforced: true' before decrypting it")
    with backend.locked("state rekey", ws.lock_timeout):
        state = backend.read()
        accepted = backend.rolled_back
        if plaintext:
            backend.plaintext()
        recorder = StateRecorder(state, backend)
        recorder.accept_rollback()
        recorder.finish()
    return Rewritten(backend.describe(), state.serial, None if plaintext else target.describe(), accepted)
