"""Saved plans (``plan -out FILE``): write one, read it back, refuse it when stale.

The file holds the body engine/planformat.py encodes (fingerprints, never
secrets), owner-only. ``apply FILE`` refuses it if the state moved (lineage or
serial) or a plan file changed since it was made.

With ``encryption: plan`` configured the body is sealed (engine/encryption); its
cleartext header names the plan folder, so ``apply FILE`` finds the configuration
there, or in LABFORM_ENCRYPTION when the folder is not at hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labform.engine import diskwrite, planformat
from labform.engine.changes import Plan
from labform.engine.config import PlanConfig
from labform.engine.encryption import envelope
from labform.engine.encryption.errors import EncryptionError
from labform.engine.errors import LabformError, PlanRefusedError
from labform.engine.planformat import SavedPlan
from labform.engine.state import State

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target


CONTENT = "saved plan"


def _target(plan_path: Path | None) -> Target | None:
    from labform.engine.encryption.configured import encryption_config

    config = encryption_config(plan_path)
    return config.plan if config else None


def write(out: Path, saved: SavedPlan) -> None:
    """All or nothing, owner-only: a full disk leaves no half-written plan (and any older plan at ``out`` intact)."""
    text = json.dumps(planformat.encode(saved), indent=2, sort_keys=True, default=str)
    target = _target(saved.plan_path)
    if target is not None:
        context = {"plan_path": str(saved.plan_path.resolve())}
        text = envelope.to_text(target.seal(CONTENT, text.encode(), context))
    diskwrite.replace(out, text, "no plan was saved", LabformError)


def kept(path: Path) -> dict[str, Any]:
    """A saved plan's file as a JSON object to keep elsewhere (a reconciliation awaiting approval),
    as it is: an encrypted one stays sealed (its envelope under ``sealed``), never opened for it."""
    text = path.read_text()
    return {"sealed": envelope.from_text(text)} if envelope.is_sealed_text(text) else json.loads(text)


def write_kept(document: dict[str, Any], out: Path) -> None:
    """The file :func:`kept` took, written back byte for byte as labform reads it."""
    sealed = document.get("sealed")
    text = envelope.to_text(sealed) if sealed is not None else json.dumps(document)
    diskwrite.replace(out, text, "no plan was saved", LabformError)


def is_saved_plan(path: Path) -> bool:
    """True for a file written by :func:`write` (a plan folder or YAML file is not), encrypted or not."""
    if not path.is_file():
        return False
    try:
        text = path.read_text()
        if envelope.is_sealed_text(text):
            document = envelope.from_text(text)
            return isinstance(document, dict) and document.get("content") == CONTENT
        return planformat.is_saved_plan(json.loads(text))
    except (ValueError, UnicodeDecodeError):
        return False


def read(path: Path) -> SavedPlan:
    try:
        text = path.read_text()
        document = _opened(text, path) if envelope.is_sealed_text(text) else json.loads(text)
    except (OSError, ValueError) as exc:
        raise PlanRefusedError(f"cannot read saved plan {path}: {exc}") from None
    if not envelope.is_sealed_text(text) and planformat.is_saved_plan(document):
        target = _target(Path(str(document.get("plan_path", ""))))
        if target is not None and target.enforced:
            raise EncryptionError(f"saved plan {path} is not encrypted, and the plan encryption is enforced")
    return planformat.decode(document, path)


def _opened(text: str, path: Path) -> Any:
    """The body of a sealed saved plan, with the configuration of the plan folder its header names."""
    try:
        document = envelope.from_text(text)
    except ValueError:
        raise EncryptionError(f"saved plan {path} is tampered: its encrypted document is damaged") from None
    context = document.get("context") if isinstance(document, dict) else None
    named = context.get("plan_path") if isinstance(context, dict) else None
    target = _target(Path(named) if isinstance(named, str) else None)
    if target is None:
        raise EncryptionError(
            f"saved plan {path} is encrypted ({envelope.describe(document)}), but no plan encryption is configured "
            "here: set LABFORM_ENCRYPTION (or plan from a folder whose encryption: block has 'plan')"
        )
    return json.loads(target.open(document, f"saved plan {path}"))


def refuse_if_stale(saved: Plan, state: State, config: PlanConfig, path: Path) -> None:
    if (saved.state_lineage, saved.state_serial) != (state.lineage, state.serial):
        raise PlanRefusedError(
            f"saved plan {path} is stale: state moved from serial {saved.state_serial} to {state.serial} "
            f"since it was made; run 'labform plan' again"
        )
    if saved.file_hashes != config.file_hashes:
        changed = sorted(set(saved.file_hashes.items()) ^ set(config.file_hashes.items()))
        names = sorted({name for name, _ in changed})
        raise PlanRefusedError(f"saved plan {path} is stale: plan files changed since it was made ({', '.join(names)})")
