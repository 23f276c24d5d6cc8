"""Saved plans (``plan -out FILE``): write one, read it back, refuse it when stale.

A saved plan is the JSON plan (unmasked: it holds fingerprints, never
secrets) plus what is needed to apply exactly it later: the plan location,
the variables, the parallelism. ``apply FILE`` refuses it if the state moved
(lineage or serial) or a plan file changed since it was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.addresses import Address
from engine.changes import Action, Notice, Plan, ResourceChange
from engine.config import PlanConfig
from engine.errors import PlanRefusedError
from engine.references import UNKNOWN
from engine.render import plan_to_dict
from engine.state import State

KIND = "labform-saved-plan"


@dataclass
class SavedPlan:
    plan: Plan
    plan_path: Path
    variables: dict[str, Any] = field(default_factory=dict)
    parallelism: int | None = None


def write(out: Path, saved: SavedPlan) -> None:
    document = {
        "kind": KIND,
        "plan_path": str(saved.plan_path.resolve()),
        "variables": saved.variables,
        "parallelism": saved.parallelism,
        "plan": plan_to_dict(saved.plan, mask=False),
    }
    out.write_text(json.dumps(document, indent=2, sort_keys=True, default=str))
    out.chmod(0o600)


def is_saved_plan(path: Path) -> bool:
    """True for a file written by :func:`write` (a plan folder or YAML file is not)."""
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("kind") == KIND
    except (ValueError, UnicodeDecodeError, AttributeError):
        return False


def read(path: Path) -> SavedPlan:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PlanRefusedError(f"cannot read saved plan {path}: {exc}") from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise PlanRefusedError(f"{path} is not a labform saved plan")
    return SavedPlan(
        plan=_plan_from_dict(document["plan"]),
        plan_path=Path(document["plan_path"]),
        variables=document.get("variables") or {},
        parallelism=document.get("parallelism"),
    )


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


def _plan_from_dict(raw: dict[str, Any]) -> Plan:
    """The inverse of render.plan_to_dict, unknown values restored."""
    changes = []
    for item in raw["resource_changes"]:
        change = item["change"]
        unknown = set(change["after_unknown"])
        after = change["after"]
        if after is not None:
            after = {k: (UNKNOWN if k in unknown else v) for k, v in after.items()}
        changes.append(
            ResourceChange(
                address=Address.parse(item["address"]),
                action=Action.from_json(change["actions"], importing=bool(change.get("importing"))),
                before=change["before"],
                after=after,
                after_unknown=unknown,
                requires_replace=[p[0] for p in change["replace_paths"]],
                sensitive=set(change["before_sensitive"]) | set(change["after_sensitive"]),
                reason=item.get("action_reason") or "",
                note=item.get("note"),
                remote_id=item.get("remote_id"),
            )
        )
    return Plan(
        changes=changes,
        state_serial=raw["state"]["serial"],
        state_lineage=raw["state"]["lineage"],
        file_hashes=raw["files"],
        notices=[Notice(Address.parse(n["address"]), n["message"]) for n in raw.get("notices", [])],
        destroy=raw.get("destroy", False),
        refresh_only=raw.get("refresh_only", False),
    )
