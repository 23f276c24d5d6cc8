"""Start deriving the state's key on another core as a command begins, while it loads its plan.

PBKDF2 at OpenTofu's default (600,000 × SHA-512) takes about 0.4 s, and a command needs the
key only once it reads state, after loading and checking the plan (seconds, for a big one).
cryptography leaves the GIL while it iterates, so a thread derives the key meanwhile;
keys.py hands the command that same result. Only a local state file whose first line says
it is sealed is looked at; anything unexpected is left for the command itself to report.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from labform.engine.encryption.envelope import MAGIC


def start(state_location: str, plan_path: Path) -> None:
    if "://" in state_location:
        return  # PostgreSQL: the row is read once the command connects
    threading.Thread(target=_derive_quietly, args=(Path(state_location), plan_path), daemon=True).start()


def _derive_quietly(state: Path, plan_path: Path) -> None:
    try:
        with state.open(encoding="utf-8") as sealed:
            if sealed.readline() != MAGIC + "\n":
                return
            document = json.loads(sealed.readline())
        from labform.engine.encryption.configured import encryption_config

        config = encryption_config(plan_path)
        target = config.state if config else None
        if target is None:
            return
        for method in (target.method, target.fallback):
            if method is not None and method.provider.name == document.get("key_provider"):
                method.provider.decryption_key(document.get("key_meta"))
    except Exception:  # noqa: BLE001, S110 (a head start only: the command reads the state itself and reports)
        return
