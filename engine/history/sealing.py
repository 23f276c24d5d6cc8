"""The history target: test ids, devices, commits and run ids kept as keyed digests, names sealed.

The grouping columns hold an HMAC-SHA256 (under a key derived from the workspace's data
key with a fixed label) instead of the value: equal values give equal digests, so the
figures' SQL groups, counts and takes medians exactly as on plain rows. Each row also
holds ``sealed``, its ``{test_id, device}`` under AES-GCM with the data key (random nonce,
the test's digest as associated data, so a sealed name moved to another test's rows is
refused); ``tests flaky`` opens one per distinct test, not one per row.

A workspace's rows are all under one data key (a digest under another key groups apart),
random, kept in the keys table wrapped by the target's key (store.py: KEY_READ) with the
key provider, its metadata (a pbkdf2 salt) and the key check, so a wrong key is told apart
and named. A rotation re-wraps it: opened through the fallback, the data key is wrapped
again under the current method at once (``rewrapped``), so the old key is no longer needed,
while the rows, which are only ever added to, stay as they are.
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


_WRAP_LABEL = b"labform history data key v1"


def new_key(target: Target) -> tuple[tuple[str, str, str, str], HistoryKey]:
    """A workspace's first encrypted rows: a new data key, and the keys table's row wrapping it
    under the target's current key."""
    data_key = os.urandom(aes_gcm.KEY_LENGTH)
    return wrapped(target, data_key), HistoryKey(data_key, target.method.provider.name)


def wrapped(target: Target, data_key: bytes) -> tuple[str, str, str, str]:
    """The keys table's row for ``data_key`` under the target's current method: provider, metadata,
    key check, and the data key sealed."""
    key, meta = target.method.provider.encryption_key()
    nonce = os.urandom(aes_gcm.NONCE_LENGTH)
    sealed = base64.b64encode(nonce + AESGCM(key).encrypt(nonce, data_key, _WRAP_LABEL)).decode()
    provider = target.method.provider.name
    return provider, json.dumps(meta, sort_keys=True), aes_gcm.key_check(key), sealed


def history_key(target: Target, stored: tuple[Any, ...], source: str) -> tuple[HistoryKey, bytes]:
    """The data key of the stored row (provider, metadata, check, wrapped), unwrapped with the method or
    the fallback naming its provider; the key, and the data key itself (for a re-wrap)."""
    provider, meta, check, sealed = stored
    try:
        parsed = json.loads(meta)
    except ValueError:
        raise EncryptionError(f"{source}: the {provider} metadata is damaged") from None
    key = target.key(provider, parsed, check, source)
    try:
        raw = base64.b64decode(sealed, validate=True)
        data_key = AESGCM(key).decrypt(raw[: aes_gcm.NONCE_LENGTH], raw[aes_gcm.NONCE_LENGTH :], _WRAP_LABEL)
    except (binascii.Error, TypeError, ValueError, aes_gcm.InvalidTag):
        raise EncryptionError(f"{source} is tampered: its data key does not authenticate under {provider}") from None
    return HistoryKey(data_key, provider), data_key
