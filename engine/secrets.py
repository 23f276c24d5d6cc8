"""What the engine keeps instead of a secret: salted, slow fingerprints; and the log filter that masks them.

The mask registry itself (register, redact) lives in providers/masking.py, the
bottom layer, so providers can register a secret without importing the engine.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os

from labform.providers.masking import redact

# scrypt cost: 20 sensitive values take about 0.3 s on a small CI machine, while
# each guess at a weak password costs an attacker the same (and 8 MiB of memory).
SCRYPT = {"n": 2**13, "r": 8, "p": 1}
_PREFIX = "scrypt:"
_LEGACY_PREFIX = "sha256:"  # what state written before the salted hash holds


def _scrypt(value: object, salt: bytes) -> str:
    return hashlib.scrypt(str(value).encode(), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **SCRYPT).hex()


def fingerprint(value: object) -> str:
    """What state, journal and saved plans keep instead of a secret: a salted, deliberately slow
    hash — enough to notice a change, useless for guessing the secret offline."""
    salt = os.urandom(16)
    return f"{_PREFIX}{salt.hex()}:{_scrypt(value, salt)}"


def matches(value: object, stored: str) -> bool:
    """Whether ``stored`` is a fingerprint of ``value`` (the older sha256 form included)."""
    if stored.startswith(_LEGACY_PREFIX):
        return hmac.compare_digest(stored, _LEGACY_PREFIX + hashlib.sha256(str(value).encode()).hexdigest())
    if not stored.startswith(_PREFIX):
        return False
    salt, _, digest = stored.removeprefix(_PREFIX).partition(":")
    try:
        return hmac.compare_digest(digest, _scrypt(value, bytes.fromhex(salt)))
    except ValueError:
        return False


def kept(value: object, prior: object = None) -> str:
    """``value`` as state keeps a secret: ``prior`` when that is still its fingerprint (salted
    hashes differ each time, and an unchanged secret must diff as unchanged), else a new one."""
    if isinstance(prior, str) and is_fingerprint(prior) and matches(value, prior):
        return prior
    return fingerprint(value)


def is_fingerprint(value: object) -> bool:
    return isinstance(value, str) and value.startswith((_PREFIX, _LEGACY_PREFIX))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True
