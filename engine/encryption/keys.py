"""Key providers: where the 256-bit key comes from, and the metadata stored to find it again.

``pbkdf2`` derives the key from a passphrase (``${env.NAME}``); its metadata is the salt,
the iteration count and the hash. ``command`` runs an external program speaking OpenTofu's
external key provider protocol: it prints the header line
``{"magic": "OpenTofu-External-Key-Provider", "version": 1}``, reads the stored metadata (or
``null`` for new data) as JSON on its standard input, and prints
``{"keys": {"encryption_key": BASE64, "decryption_key": BASE64 or null}, "meta": {...}}``.

A command pays for a key once: derivations and the program's answers are kept for the
process (one labform command), so a 600,000-iteration PBKDF2 runs once, not per file; and
prefetch.py starts that one derivation on another core while the command loads its plan.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Future
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from labform.engine import external
from labform.engine.encryption.aes_gcm import KEY_LENGTH
from labform.engine.encryption.config import CommandSettings, Pbkdf2Settings
from labform.engine.encryption.errors import EncryptionError
from labform.providers import masking

MIN_PASSPHRASE = 16  # OpenTofu's minimum too
COMMAND_MAGIC = "OpenTofu-External-Key-Provider"

# The salt a process writes with, per passphrase and settings: the first one it read with, or a new one.
_writing_salts: dict[tuple[str, int, str, int], bytes] = {}
# A command's answers for the process, by program and stored metadata.
_command_answers: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}


class KeyProvider(ABC):
    """One configured key provider, named ``TYPE.NAME`` in headers and messages (never its key)."""

    def __init__(self, name: str):
        self.name = name

    @abstractmethod
    def encryption_key(self) -> tuple[bytes, dict[str, Any]]:
        """The key new data is written with, and the metadata to store beside it."""

    @abstractmethod
    def decryption_key(self, meta: Any) -> bytes:
        """The key the data stored with ``meta`` was written with."""


def _b64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionError(f"{what} is not base64") from None


_derivations: dict[tuple[str, bytes, int, str], Future[bytes]] = {}
_derivations_lock = threading.Lock()
_HASHES = {"sha512": hashes.SHA512, "sha256": hashes.SHA256}


def pbkdf2(passphrase: str, salt: bytes, iterations: int, hash_function: str) -> bytes:
    """One PBKDF2-HMAC through cryptography: its bundled OpenSSL iterates about a quarter faster than
    the system's that hashlib uses, and since cryptography 50 it leaves the GIL meanwhile."""
    kdf = PBKDF2HMAC(_HASHES[hash_function](), KEY_LENGTH, salt, iterations)
    return kdf.derive(passphrase.encode())


def _derived(passphrase: str, salt: bytes, iterations: int, hash_function: str) -> bytes:
    """PBKDF2 once per process and inputs: a second caller (the prefetch's thread, or the command
    itself) waits for the first one's result instead of deriving again."""
    wanted = (passphrase, salt, iterations, hash_function)
    with _derivations_lock:
        pending = _derivations.get(wanted)
        if pending is None:
            pending = _derivations[wanted] = Future()
            mine = True
        else:
            mine = False
    if mine:  # the GIL is left while OpenSSL iterates: another thread goes on meanwhile
        try:
            pending.set_result(pbkdf2(passphrase, salt, iterations, hash_function))
        except BaseException as exc:
            pending.set_exception(exc)
    return pending.result()


class Pbkdf2Provider(KeyProvider):
    def __init__(self, name: str, settings: Pbkdf2Settings):
        super().__init__(name)
        self.settings = settings

    def passphrase(self) -> str:
        """The passphrase, ``${env.NAME}`` read now (masked in every output from here on)."""
        from labform.engine.references import ExpressionError, Reference, substitute

        def lookup(ref: Reference) -> Any:
            if ref.name not in os.environ and ref.default is None:
                raise EncryptionError(
                    f"key provider {self.name}: environment variable {ref.name} is not set (it holds the passphrase)"
                )
            return os.environ.get(ref.name, ref.default)

        try:
            value = substitute(self.settings.passphrase, lookup, kinds=frozenset({"env"}))
        except ExpressionError as exc:
            raise EncryptionError(f"key provider {self.name}: passphrase: {exc}") from None
        if not isinstance(value, str) or "${" in value:
            raise EncryptionError(
                f"key provider {self.name}: the passphrase must be text (from ${{env.NAME}}, ${{file(...)}} or ${{command(...)}})"
            )
        masking.register(value)
        if len(value) < MIN_PASSPHRASE:
            raise EncryptionError(
                f"key provider {self.name}: the passphrase must have at least {MIN_PASSPHRASE} characters"
            )
        return value

    def encryption_key(self) -> tuple[bytes, dict[str, Any]]:
        s = self.settings
        passphrase = self.passphrase()
        params = (passphrase, s.iterations, s.hash_function, s.salt_length)
        salt = _writing_salts.setdefault(params, os.urandom(s.salt_length))
        meta = {
            "salt": base64.b64encode(salt).decode(),
            "iterations": s.iterations,
            "hash_function": s.hash_function,
            "key_length": KEY_LENGTH,
        }
        return _derived(passphrase, salt, s.iterations, s.hash_function), meta

    def decryption_key(self, meta: Any) -> bytes:
        what = f"the {self.name} metadata in the header"
        if not isinstance(meta, dict) or meta.get("hash_function") not in ("sha512", "sha256"):
            raise EncryptionError(f"{what} is damaged")
        iterations = meta.get("iterations")
        if type(iterations) is not int or not 1 <= iterations <= 10_000_000:
            raise EncryptionError(f"{what} is damaged (iterations)")
        salt = _b64(meta.get("salt"), what)
        passphrase = self.passphrase()
        s = self.settings
        if (iterations, meta["hash_function"], len(salt)) == (s.iterations, s.hash_function, s.salt_length):
            _writing_salts.setdefault((passphrase, iterations, s.hash_function, len(salt)), salt)
        return _derived(passphrase, salt, iterations, meta["hash_function"])


class CommandProvider(KeyProvider):
    def __init__(self, name: str, settings: CommandSettings):
        super().__init__(name)
        self.argv = tuple(settings.command)

    def _ask(self, meta: Any) -> dict[str, Any]:
        stored = json.dumps(meta, sort_keys=True)
        cached = _command_answers.get((self.argv, stored))
        if cached is not None:
            return cached
        try:
            stdout = external.run(self.argv, stdin=stored + "\n")
        except external.ExternalError as exc:
            raise EncryptionError(f"key provider {self.name}: {exc}") from None
        answer = self._parsed(stdout)
        _command_answers[(self.argv, stored)] = answer
        return answer

    def _parsed(self, stdout: str) -> dict[str, Any]:
        wrong = f"key provider {self.name}: {self.argv[0]} does not speak the external key provider protocol"
        header, _, body = stdout.partition("\n")
        try:
            magic = json.loads(header)
            answer = json.loads(body)
        except ValueError:
            raise EncryptionError(f"{wrong} (its output is not a header line and a JSON answer)") from None
        if not (isinstance(magic, dict) and magic.get("magic") == COMMAND_MAGIC and magic.get("version") == 1):
            raise EncryptionError(f'{wrong} (the first line must be {{"magic": "{COMMAND_MAGIC}", "version": 1}})')
        keys = answer.get("keys") if isinstance(answer, dict) else None
        if not isinstance(keys, dict) or not keys.get("encryption_key"):
            raise EncryptionError(f"{wrong} (no keys.encryption_key in its answer)")
        for value in keys.values():
            if value:
                masking.register(value)
        checked: dict[str, Any] = answer
        return checked

    def _key(self, text: Any, which: str) -> bytes:
        key = _b64(text, f"key provider {self.name}: its {which}")
        if len(key) != KEY_LENGTH:
            raise EncryptionError(
                f"key provider {self.name}: its {which} has {len(key)} bytes, aes_gcm needs {KEY_LENGTH}"
            )
        return key

    def encryption_key(self) -> tuple[bytes, dict[str, Any]]:
        answer = self._ask(None)
        meta = answer.get("meta")
        return self._key(answer["keys"]["encryption_key"], "encryption_key"), meta if isinstance(meta, dict) else {}

    def decryption_key(self, meta: Any) -> bytes:
        answer = self._ask(meta)
        return self._key(answer["keys"].get("decryption_key"), "decryption_key")
