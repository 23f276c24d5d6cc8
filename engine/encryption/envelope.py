"""A sealed document: a cleartext header naming method and key provider (never the key), then the ciphertext.

    {"labform_encrypted": 1, "content": "state", "method": "aes_gcm", "key_provider": "pbkdf2.main",
     "key_meta": {"salt": ..., "iterations": 600000, "hash_function": "sha512", "key_length": 32},
     "key_check": "…16 hex…", "context": {"lineage": ..., "serial": 12}, "nonce": ..., "ciphertext": ...}

Everything but nonce and ciphertext is the associated data: the header is authenticated
with the ciphertext. ``context`` carries what a reader checks before trusting the content
(lineage and serial of a state, the chain link of a journal record). A file holds
``MAGIC`` on its first line and the document on the second; a journal record and a
PostgreSQL row hold the document alone.
"""

from __future__ import annotations

import base64
import json
from typing import Any

MAGIC = "labform-encrypted/v1"
MARKER = "labform_encrypted"
VERSION = 1

Envelope = dict[str, Any]


def is_sealed(document: Any) -> bool:
    return isinstance(document, dict) and MARKER in document


def associated_data(envelope: Envelope) -> bytes:
    header = {key: value for key, value in envelope.items() if key not in ("nonce", "ciphertext")}
    return json.dumps(header, sort_keys=True, separators=(",", ":"), default=str).encode()


def header(
    content: str, method: str, key_provider: str, key_meta: Any, key_check: str, context: dict[str, Any]
) -> Envelope:
    return {
        MARKER: VERSION,
        "content": content,
        "method": method,
        "key_provider": key_provider,
        "key_meta": key_meta,
        "key_check": key_check,
        "context": context,
    }


def with_ciphertext(envelope: Envelope, nonce: bytes, ciphertext: bytes) -> Envelope:
    return {**envelope, "nonce": base64.b64encode(nonce).decode(), "ciphertext": base64.b64encode(ciphertext).decode()}


def to_text(envelope: Envelope) -> str:
    return f"{MAGIC}\n{json.dumps(envelope)}\n"  # the header first, as built; the ciphertext last


def is_sealed_text(text: str) -> bool:
    return text.startswith(MAGIC + "\n")


def from_text(text: str) -> Any:
    """The document of a sealed file (whatever JSON it holds: the reader checks its shape); ValueError if not JSON."""
    return json.loads(text[len(MAGIC) + 1 :])


def describe(document: Any) -> str:
    """ "aes_gcm, key provider pbkdf2.main": what a message may say about a sealed document."""
    if not isinstance(document, dict):
        return "unreadable header"
    return f"{document.get('method', '?')}, key provider {document.get('key_provider', '?')}"
