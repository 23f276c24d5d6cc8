"""Saved plans (``plan -out FILE``): write one, read it back, refuse it when stale.

The file holds the body engine/planformat.py encodes (fingerprints, never
secrets), owner-only. ``apply FILE`` refuses it if the state moved (lineage or
serial) or a plan file changed since it was made.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine import diskwrite, planformat
from engine.changes import Plan
from engine.config import PlanConfig
from engine.errors import LabformError, PlanRefusedError
from engine.planformat import SavedPlan
from engine.state import State


def write(out: Path, saved: SavedPlan) -> None:
    """All or nothing, owner-only: a full disk leaves no half-written plan (and any older plan at ``out`` intact)."""
    text = json.dumps(planformat.encode(saved), indent=2, sort_keys=True, default=str)
    diskwrite.replace(out, text, "no plan was saved", LabformError)


def is_saved_plan(path: Path) -> bool:
    """True for a file written by :func:`write` (a plan folder or YAML file is not)."""
    if not path.is_file():
        return False
    try:
        return planformat.is_saved_plan(json.loads(path.read_text()))
    except (ValueError, UnicodeDecodeError):
        return False


def read(path: Path) -> SavedPlan:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PlanRefusedError(f"cannot read saved plan {path}: {exc}") from None
    return planformat.decode(document, path)


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
