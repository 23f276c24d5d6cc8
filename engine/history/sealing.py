"""The history target: test ids, devices, commits and run ids kept as keyed digests, names sealed.

The grouping columns hold an HMAC-SHA256 (under a key derived from the target's key
with a fixed label) instead of the value: equal values give equal digests, so the
figures' SQL groups, counts and takes medians exactly as on plain rows. Each row also
holds ``sealed``, its ``{test_id, device}`` under AES-GCM (random nonce, the test's
digest as associated data, so a sealed name moved to another test's rows is refused);
``tests flaky`` opens one per distinct test, not one per row.

A workspace's rows are all under one key, since a digest under another key groups
apart: the keys table (store.py: KEY_READ) keeps, per workspace, the key provider, its
metadata (a pbkdf2 salt) and the key check, so a wrong key is told apart and named.
A rotation's fallback method still reads and adds to a history first written with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from labform.engine.encryption import aes_gcm
from labform.engine.encryption.errors import EncryptionError

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target

_DIGEST_LABEL = b"labform history digests v1"
DIGEST_LENGTH = 32  # hex characters: 128 bits


class HistoryKey:
    """One workspace's history key: digests of grouping values, sealed and opened names."""

    def __init__(self, key: bytes, provider: str):
        self.provider = provider
        self._digest_key = hmac.new(key, _DIGEST_LABEL, hashlib.sha256).digest()
        self._aead = AESGCM(key)  # one cipher for every row
        self._digests: dict[str, str] = {}

    def digest(self, value: str) -> str:
        found = self._digests.get(value)
        if found is None:
            found = hmac.new(self._digest_key, value.encode(), hashlib.sha256).hexdigest()[:DIGEST_LENGTH]
            self._digests[value] = found
        return found

    def seal(self, test_id: str, device: str) -> str:
        plaintext = json.dumps({"test_id": test_id, "device": device}).encode()
        nonce = os.urandom(aes_gcm.NONCE_LENGTH)
        ciphertext = self._aead.encrypt(nonce, plaintext, self.digest(test_id).encode())
        return base64.b64encode(nonce + ciphertext).decode()

    def test_id(self, sealed: str, digest: str, source: str) -> str:
        """The clear test id sealed in a row of the test whose digest is ``digest``."""
        try:
            raw = base64.b64decode(sealed, validate=True)
            plaintext = self._aead.decrypt(raw[: aes_gcm.NONCE_LENGTH], raw[aes_gcm.NONCE_LENGTH :], digest.encode())
            name = json.loads(plaintext)["test_id"]
        except (binascii.Error, ValueError, KeyError, TypeError, aes_gcm.InvalidTag):
            raise EncryptionError(
                f"{source} is tampered: a sealed test name does not authenticate under key provider {self.provider}"
            ) from None
        if not isinstance(name, str) or self.digest(name) != digest:
            raise EncryptionError(f"{source} is tampered: a sealed test name is not its rows' test")
        return name


def new_key(target: Target) -> tuple[tuple[str, str, str], HistoryKey]:
    """A workspace's first encrypted rows: the keys table's row for the target's current key, and that key."""
    key, meta = target.method.provider.encryption_key()
    provider = target.method.provider.name
    return (provider, json.dumps(meta, sort_keys=True), aes_gcm.key_check(key)), HistoryKey(key, provider)


def history_key(target: Target, stored: tuple[Any, ...], source: str) -> HistoryKey:
    """The key of the stored row (provider, metadata, check), from the method or the fallback naming its provider."""
    provider, meta, check = stored
    try:
        parsed = json.loads(meta)
    except ValueError:
        raise EncryptionError(f"{source}: the {provider} metadata is damaged") from None
    return HistoryKey(target.key(provider, parsed, check, source), provider)
