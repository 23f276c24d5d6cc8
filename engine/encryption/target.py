"""One target (state, saved plans, history or reconciliations): the method it is written with, the fallback it is also read with, enforced.

Opening picks the method by the key provider the header names (the current one, or the
fallback during a rotation), tells a wrong key (the key check differs) from tampered
bytes (the check matches but GCM refuses), and says which key provider in both cases.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from labform.engine.encryption import aes_gcm, envelope
from labform.engine.encryption.config import EncryptionBlock, Fail, StateTargetSettings, TargetSettings
from labform.engine.encryption.errors import EncryptionError
from labform.engine.encryption.keeper import MarkKeeper
from labform.engine.encryption.keys import CommandProvider, KeyProvider, Pbkdf2Provider


@dataclass(frozen=True)
class Method:
    name: str  # aes_gcm.NAME
    provider: KeyProvider


@dataclass(frozen=True)
class Target:
    what: str  # "state", "plan", "history" or "reconciliations"
    method: Method
    fallback: Method | None
    enforced: bool
    # Where the state's high-water mark is kept when not beside it (None: beside it).
    keeper: MarkKeeper | None = None

    def describe(self) -> str:
        return f"{aes_gcm.NAME}, key provider {self.method.provider.name}"

    def seal(self, content: str, plaintext: bytes, context: dict[str, Any]) -> envelope.Envelope:
        key, meta = self.method.provider.encryption_key()
        sealed = envelope.header(
            content, aes_gcm.NAME, self.method.provider.name, meta, aes_gcm.key_check(key), context
        )
        nonce, ciphertext = aes_gcm.seal(key, plaintext, envelope.associated_data(sealed))
        return envelope.with_ciphertext(sealed, nonce, ciphertext)

    def key(self, named: Any, meta: Any, check: Any, source: str) -> bytes:
        """The key ``source`` was written with: key provider ``named``'s (the current method's or the
        fallback's) from its ``meta``, which must give the stored key ``check``."""
        method = next((m for m in (self.method, self.fallback) if m is not None and m.provider.name == named), None)
        if method is None:
            configured = " or ".join(m.provider.name for m in (self.method, self.fallback) if m is not None)
            raise EncryptionError(
                f"{source} was encrypted with key provider {named}, which the {self.what} encryption does not use "
                f"(it uses {configured}): name a method with {named} as the {self.what}'s fallback"
            )
        key = method.provider.decryption_key(meta)
        if aes_gcm.key_check(key) != check:
            raise EncryptionError(
                f"cannot decrypt {source}: the key from key provider {named} is not the one it was encrypted with "
                "(a wrong passphrase or key, or an altered header); nothing was written"
            )
        return key

    def open(self, document: Any, source: str) -> bytes:
        """The plaintext of ``document`` (read from ``source``, e.g. "state labform.state.json")."""
        tampered = f"{source} is tampered ({envelope.describe(document)}): its encrypted content does not authenticate"
        if not isinstance(document, dict) or not isinstance(document.get("context"), dict):
            raise EncryptionError(f"{tampered} (its header is damaged); nothing was written")
        if document.get("method") != aes_gcm.NAME:
            raise EncryptionError(f"{source} is encrypted with method {document.get('method')!r}: labform has aes_gcm")
        named = document.get("key_provider")
        key = self.key(named, document.get("key_meta"), document.get("key_check"), source)
        try:
            nonce = base64.b64decode(document["nonce"], validate=True)
            ciphertext = base64.b64decode(document["ciphertext"], validate=True)
            return aes_gcm.open_sealed(key, nonce, ciphertext, envelope.associated_data(document))
        except (KeyError, TypeError, ValueError, binascii.Error, aes_gcm.InvalidTag):
            raise EncryptionError(f"{tampered} under key provider {named}; nothing was written") from None


@dataclass(frozen=True)
class EncryptionConfig:
    """The checked configuration, with each target's methods resolved to their key providers."""

    state: Target | None  # None: that target is written in plain
    plan: Target | None
    history: Target | None = None
    reconciliations: Target | None = None


def build_targets(block: EncryptionBlock, fail: Fail) -> EncryptionConfig:
    """Each target with its methods' key providers; a reference to nothing is an error at its line."""
    providers: dict[str, KeyProvider] = {}
    for name, pbkdf2 in block.key_provider.pbkdf2.items():
        providers[f"pbkdf2.{name}"] = Pbkdf2Provider(f"pbkdf2.{name}", pbkdf2)
    for name, command in block.key_provider.command.items():
        providers[f"command.{name}"] = CommandProvider(f"command.{name}", command)
    methods: dict[str, Method] = {}
    for name, settings in block.method.aes_gcm.items():
        provider = providers.get(settings.keys.removeprefix("key_provider."))
        if provider is None:
            raise fail(("method", "aes_gcm", name, "keys"), f"'{settings.keys}' is not a configured key provider")
        methods[f"method.aes_gcm.{name}"] = Method(f"aes_gcm.{name}", provider)

    def method(reference: str, path: tuple[Any, ...]) -> Method:
        if reference not in methods:
            known = ", ".join(sorted(methods)) or "none is configured"
            raise fail(path, f"'{reference}' is not a configured method ({known})")
        return methods[reference]

    def target(what: str, settings: TargetSettings | None) -> Target | None:
        if settings is None:
            return None
        fallback = settings.fallback
        return Target(
            what,
            method(settings.method, (what, "method")),
            method(fallback.method, (what, "fallback", "method")) if fallback else None,
            settings.enforced,
            MarkKeeper(settings.high_water.command)
            if isinstance(settings, StateTargetSettings) and settings.high_water
            else None,
        )

    return EncryptionConfig(
        state=target("state", block.state),
        plan=target("plan", block.plan),
        history=target("history", block.history),
        reconciliations=target("reconciliations", block.reconciliations),
    )
