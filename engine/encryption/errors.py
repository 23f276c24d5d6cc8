"""What goes wrong with encrypted data: each message names the key provider, never the key."""

from __future__ import annotations

from labform.engine.errors import StateError


class EncryptionError(StateError):
    """A wrong or missing key, tampered bytes, plaintext where encryption is enforced, a rolled-back state.

    A StateError: it is always about labform's own files (state, journal, saved plans), and
    every command that reads them already reports a StateError as 'Error: ...' and exit 1."""
