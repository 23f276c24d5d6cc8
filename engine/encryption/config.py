"""The encryption configuration: the plan's ``encryption:`` block, and LABFORM_ENCRYPTION over it.

OpenTofu's ``terraform { encryption { ... } }`` block, translated to YAML::

    encryption:
      key_provider:
        pbkdf2:
          main: {passphrase: "${env.LABFORM_PASSPHRASE}"}   # iterations 600000, sha512 by default
        command:
          vault: {command: [./vault-key.sh]}                # prints the key as JSON (keys.py)
      method:
        aes_gcm:
          current: {keys: key_provider.pbkdf2.main}
      state: {method: method.aes_gcm.current, enforced: true, fallback: {method: method.aes_gcm.old}}
      plan: {method: method.aes_gcm.current}

LABFORM_ENCRYPTION holds the same mapping as JSON or YAML text (with or without the
``encryption:`` key), merged over the plan's, so ``state list``, ``output``, ``force-unlock`` and
``apply FILE`` decrypt without the plan folder, as OpenTofu's TF_ENCRYPTION does.

Only the block's own lines are parsed (a plan of 10,000 resources is not read twice); a
mistake is a ConfigError at its file:line:col, or naming LABFORM_ENCRYPTION.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from labform.engine.encryption.presence import BLOCK_START, ENV, SECTION
from labform.engine.errors import ConfigError
from labform.engine.loader import Positions

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
KEYS_REFERENCE = rf"^key_provider\.(pbkdf2|command)\.{_NAME}$"
METHOD_REFERENCE = rf"^method\.aes_gcm\.{_NAME}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pbkdf2Settings(_Strict):
    """A key derived from a passphrase (PBKDF2-HMAC); the salt and iteration count are stored beside the ciphertext."""

    passphrase: str = Field(
        description="At least 16 characters. In a plan file write it as ${env.NAME}: a passphrase in the plan is in git."
    )
    iterations: int = Field(600_000, ge=1, description="PBKDF2 iterations (OpenTofu's default: 600000).")
    hash_function: Literal["sha512", "sha256"] = Field("sha512", description="The HMAC's hash.")
    salt_length: int = Field(32, ge=16, le=64, description="Bytes of random salt, stored beside the ciphertext.")


class CommandSettings(_Strict):
    """An external program that prints the key as JSON (OpenTofu's external key provider protocol): Vault, OpenBao, a KMS."""

    command: list[str] = Field(min_length=1, description="The program and its arguments (no shell).")


class KeyProviders(_Strict):
    pbkdf2: dict[str, Pbkdf2Settings] = Field(default_factory=dict, description="Keys from passphrases, by name.")
    command: dict[str, CommandSettings] = Field(
        default_factory=dict, description="Keys from external programs, by name."
    )


class AesGcmSettings(_Strict):
    """AES-256-GCM with the key of one key provider."""

    keys: str = Field(pattern=KEYS_REFERENCE, description="key_provider.TYPE.NAME")


class Methods(_Strict):
    aes_gcm: dict[str, AesGcmSettings] = Field(default_factory=dict, description="AES-256-GCM methods, by name.")


class FallbackSettings(_Strict):
    method: str = Field(pattern=METHOD_REFERENCE, description="method.aes_gcm.NAME: decrypts what an older key wrote.")


class TargetSettings(_Strict):
    """How one kind of file is encrypted: written with ``method``, read with it or ``fallback``."""

    method: str = Field(pattern=METHOD_REFERENCE, description="method.aes_gcm.NAME: every write uses it.")
    enforced: bool = Field(False, description="Refuse to read or write this target unencrypted.")
    fallback: FallbackSettings | None = Field(
        None, description="The method data written before a rotation is read with."
    )


class HighWaterSettings(_Strict):
    """Where the state's high-water mark is kept, when not beside the state (highwater.py: MarkKeeper)."""

    command: list[str] = Field(
        min_length=1,
        description="A program (no shell) that keeps the mark elsewhere: called with 'get NAME' it prints the "
        "mark (nothing when none is kept), with 'put NAME' it stores the mark read on its standard input, "
        "with 'delete NAME' it forgets it; NAME is the state's.",
    )


class StateTargetSettings(TargetSettings):
    high_water: HighWaterSettings | None = Field(
        None,
        description="Keep the high-water mark through a program (a Vault entry, an object store) instead of "
        "beside the state: a whole state folder restored from a backup is then refused too.",
    )


class EncryptionBlock(_Strict):
    """Client-side encryption of state (snapshot, journal, high-water mark), saved plans, test-result
    history and reconciliation records."""

    key_provider: KeyProviders = Field(
        default_factory=KeyProviders, description="Where keys come from: pbkdf2, command."
    )
    method: Methods = Field(
        default_factory=Methods, description="How data is encrypted: aes_gcm, with one key provider."
    )
    state: StateTargetSettings | None = Field(None, description="State, its journal and its high-water mark.")
    plan: TargetSettings | None = Field(None, description="Saved plans (plan -out FILE).")
    history: TargetSettings | None = Field(None, description="Test-result history (engine/history/).")
    reconciliations: TargetSettings | None = Field(
        None, description="Reconciliation records (labform reconcile): their errors, drift, reports and plans."
    )


Fail = Callable[[tuple[Any, ...], str], ConfigError]


def checked_block(plan_path: Path | None) -> tuple[EncryptionBlock, Fail] | None:
    """The block the plan at ``plan_path`` (if any) and LABFORM_ENCRYPTION make, checked, and how to
    report a later mistake in it at its place; None without either (engine/encryption/configured.py
    resolves it to targets)."""
    raw, positions = _from_plan(plan_path)
    from_env = _from_env()
    merged = _merged(raw, from_env)
    if not merged:
        return None

    def fail(path: tuple[Any, ...], message: str) -> ConfigError:
        inner = path[1:]
        came_from_env = _holds(from_env, inner)
        location = None if came_from_env else positions.of(path)
        shown = ".".join(str(p) for p in path)
        return ConfigError(f"{f'{ENV}: ' if came_from_env else ''}{shown}: {message}", location)

    try:
        block = EncryptionBlock.model_validate(merged)
    except ValidationError as exc:
        from labform.engine.arguments import plain_message

        error = exc.errors()[0]
        raise fail((SECTION, *error["loc"]), plain_message(error, "passphrase" not in error["loc"])) from None
    if raw:
        _refuse_written_passphrases(raw, fail)
    return block, fail


def _refuse_written_passphrases(raw: dict[str, Any], fail: Any) -> None:
    """A passphrase written into a plan file is in git: it must come from the environment (or a file)."""
    for name, settings in (raw.get("key_provider", {}).get("pbkdf2") or {}).items():
        passphrase = settings.get("passphrase") if isinstance(settings, dict) else None
        if isinstance(passphrase, str) and "${" not in passphrase:
            raise fail(
                (SECTION, "key_provider", "pbkdf2", name, "passphrase"),
                "write the passphrase as ${env.NAME}: a passphrase in a plan file is in git",
            )


def _holds(document: Any, path: tuple[Any, ...]) -> bool:
    for step in path:
        if not isinstance(document, dict) or step not in document:
            return False
        document = document[step]
    return bool(path)


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into ``base``, mapping by mapping (a key provider set in both: the environment's wins)."""
    result = dict(base)
    for key, value in over.items():
        result[key] = (
            _merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
        )
    return result


def _from_env() -> dict[str, Any]:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return {}
    from ruamel.yaml import YAML, YAMLError  # JSON is YAML too

    try:
        document = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise ConfigError(f"{ENV} is neither JSON nor YAML: {str(exc).splitlines()[0]}") from None
    if isinstance(document, dict) and set(document) == {SECTION}:
        document = document[SECTION]
    if not isinstance(document, dict):
        raise ConfigError(f"{ENV} must hold a mapping (key_provider, method, state, plan)")
    return document


def _from_plan(plan_path: Path | None) -> tuple[dict[str, Any], Positions]:
    """The plan's ``encryption:`` block and where each key of it is: only its own lines are parsed."""
    from labform.engine import loader

    positions = Positions()
    if plan_path is None or not (plan_path.is_file() or plan_path.is_dir()):
        return {}, positions
    try:
        files = loader.plan_files(plan_path)
    except ConfigError:
        return {}, positions  # no plan here (state list in another folder): the environment alone
    found: dict[str, Any] = {}
    for file in files:
        snippet = _block_text(file.read_text(encoding="utf-8", errors="replace"))
        if snippet is None:
            continue
        file_positions = Positions()
        body = (loader._document(snippet, loader._display(file), file_positions) or {}).get(SECTION)
        where = file_positions.of((SECTION,))
        if body is None:
            continue
        if found:
            raise ConfigError(f"a second '{SECTION}:' section (the first is at {positions.of((SECTION,))})", where)
        if not isinstance(body, dict):
            raise ConfigError(f"section '{SECTION}' must be a mapping", where)
        found = body
        positions.locations.update(file_positions.locations)
    return found, positions


def _block_text(text: str) -> str | None:
    """The ``encryption:`` section's lines, at their own line numbers (the lines before it left blank)."""
    start = BLOCK_START.search(text)
    if start is None:
        return None
    lines = text[start.start() :].split("\n")
    taken = [lines[0]]
    for line in lines[1:]:
        if line and not line[0].isspace() and not line.startswith("#"):
            break  # the next section
        taken.append(line)
    return "\n" * text.count("\n", 0, start.start()) + "\n".join(taken) + "\n"
