"""The one method, ``aes_gcm``: AES-256-GCM from ``cryptography`` (OpenSSL), a random 96-bit nonce per message.

The header of each sealed document is the associated data, so a header that was
altered fails authentication exactly as altered ciphertext does.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NAME = "aes_gcm"
KEY_LENGTH = 32  # AES-256
NONCE_LENGTH = 12

__all__ = ["InvalidTag", "KEY_LENGTH", "NAME", "key_check", "open_sealed", "seal"]


def seal(key: bytes, plaintext: bytes, associated: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext with its tag)."""
    nonce = os.urandom(NONCE_LENGTH)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, associated)


def open_sealed(key: bytes, nonce: bytes, ciphertext: bytes, associated: bytes) -> bytes:
    """The plaintext; InvalidTag when ciphertext, nonce or associated data were altered (or the key is another)."""
    return AESGCM(key).decrypt(nonce, ciphertext, associated)


def key_check(key: bytes) -> str:
    """A short value stored in the header that tells a wrong key from tampered bytes (GCM alone cannot).

    An HMAC of a fixed label under the key: it says nothing of the key, and guessing a
    passphrase against it costs the same PBKDF2 work as guessing against the ciphertext."""
    return hmac.new(key, b"labform key check v1", hashlib.sha256).hexdigest()[:16]
