"""The body of a saved plan (``plan -out FILE``): labform's own encoding of a Plan, versioned.

It is kept apart from the JSON view (render.plan_to_dict), which is free to change:
this is what ``apply FILE`` reads back, so a change to it is a new FORMAT_VERSION,
and a body this labform cannot read is refused, never misread::

    {kind, format_version, labform_version, plan_path, variables, parallelism,
     plan: {state: {serial, lineage}, files, destroy, refresh_only,
            notices: [{address, message}],
            changes: [{address, action, before, after, after_unknown, requires_replace,
                       sensitive, reason, remote_id, note, action_reason?}]}}

``before`` and ``after`` are ``{values, unknown}``: a value only apply will know is
null in ``values`` and its path is listed in ``unknown``. A sensitive value is
only ever its fingerprint, or unknown: never the secret. ``action_reason`` (Terraform's
word for the change, for ``show FILE -json``) is only there when the change has one; a
body written before it existed reads without it: it never drives apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labform.engine import secrets
from labform.engine.addresses import Address
from labform.engine.changes import Action, ActionReason, Notice, Plan, ResourceChange
from labform.engine.errors import PlanRefusedError
from labform.engine.references import UNKNOWN, contains_unknown
from labform.engine.version import labform_version

KIND = "labform-saved-plan"
FORMAT_VERSION = 1

ValuePath = list[str | int]  # where a value sits in an object's attributes: keys and list indexes


@dataclass
class SavedPlan:
    """A plan and what applying exactly it later needs besides the plan files."""

    plan: Plan
    plan_path: Path
    variables: dict[str, Any] = field(default_factory=dict)
    parallelism: int | None = None
    # Variables that carry a secret: kept in ``variables`` as fingerprints only, so ``apply FILE``
    # must be given each again (and checks it is the one planned with).
    secret_variables: list[str] = field(default_factory=list)


def is_saved_plan(document: Any) -> bool:
    """True for a body written by :func:`encode`, whichever labform wrote it."""
    return isinstance(document, dict) and document.get("kind") == KIND


def encode(saved: SavedPlan) -> dict[str, Any]:
    plan = saved.plan
    return {
        "kind": KIND,
        "format_version": FORMAT_VERSION,
        "labform_version": labform_version(),
        "plan_path": str(saved.plan_path.resolve()),
        "variables": saved.variables,
        "secret_variables": saved.secret_variables,
        "parallelism": saved.parallelism,
        "plan": {
            "state": {"serial": plan.state_serial, "lineage": plan.state_lineage},
            "files": plan.file_hashes,
            "destroy": plan.destroy,
            "refresh_only": plan.refresh_only,
            "notices": [{"address": str(n.address), "message": n.message} for n in plan.notices],
            "changes": [_change_out(c) for c in plan.changes],
            "moved": [[str(source), str(target)] for source, target in plan.moved],
            "forgotten": [str(address) for address in plan.forgotten],
        },
    }


def decode(document: Any, source: Path) -> SavedPlan:
    """The saved plan in ``document``; PlanRefusedError unless it is one in this labform's format."""
    if not is_saved_plan(document):
        raise PlanRefusedError(f"{source} is not a labform saved plan")
    _check_version(document.get("format_version"), source)
    try:
        raw = document["plan"]
        plan = Plan(
            changes=[_change_in(item) for item in raw["changes"]],
            state_serial=raw["state"]["serial"],
            state_lineage=raw["state"]["lineage"],
            file_hashes=dict(raw["files"]),
            notices=[Notice(Address.parse(n["address"]), n["message"]) for n in raw["notices"]],
            destroy=bool(raw["destroy"]),
            refresh_only=bool(raw["refresh_only"]),
            # A plan saved before moved: and removed: existed has neither.
            moved=[(Address.parse(source), Address.parse(target)) for source, target in raw.get("moved", [])],
            forgotten=[Address.parse(address) for address in raw.get("forgotten", [])],
        )
        return SavedPlan(
            plan,
            Path(document["plan_path"]),
            dict(document["variables"]),
            document["parallelism"],
            [str(name) for name in document["secret_variables"]],
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise PlanRefusedError(f"saved plan {source} is damaged ({exc!r}): run 'labform plan' again") from None


def _check_version(version: Any, source: Path) -> None:
    if version is None or (type(version) is int and version < FORMAT_VERSION):
        raise PlanRefusedError(
            f"saved plan {source} was written by an older labform, in a format this one does not read: "
            f"run 'labform plan' again"
        )
    if type(version) is not int:
        raise PlanRefusedError(
            f"saved plan {source} has no readable format version ({version!r}): run 'labform plan' again"
        )
    if version > FORMAT_VERSION:
        raise PlanRefusedError(
            f"saved plan {source} was written by a newer labform (format {version}); "
            f"this labform reads format {FORMAT_VERSION}: upgrade labform or plan again"
        )


def _change_out(change: ResourceChange) -> dict[str, Any]:
    return {
        "address": str(change.address),
        "action": change.action.value,
        "before": _attrs_out(change.before, change.sensitive),
        "after": _attrs_out(change.after, change.sensitive),
        "after_unknown": sorted(change.after_unknown),
        "requires_replace": list(change.requires_replace),
        "sensitive": sorted(change.sensitive),
        "reason": change.reason,
        "remote_id": change.remote_id,
        "note": change.note,
        **({"action_reason": change.action_reason.value} if change.action_reason else {}),
    }


def _change_in(raw: dict[str, Any]) -> ResourceChange:
    return ResourceChange(
        address=Address.parse(raw["address"]),
        action=Action(raw["action"]),
        before=_attrs_in(raw["before"]),
        after=_attrs_in(raw["after"]),
        after_unknown=set(raw["after_unknown"]),
        requires_replace=list(raw["requires_replace"]),
        sensitive=frozenset(raw["sensitive"]),
        reason=raw["reason"],
        remote_id=raw["remote_id"],
        note=raw["note"],
        action_reason=ActionReason(raw["action_reason"]) if raw.get("action_reason") else None,
    )


def _attrs_out(attrs: dict[str, Any] | None, sensitive: frozenset[str]) -> dict[str, Any] | None:
    if attrs is None:
        return None
    unknown: list[ValuePath] = []
    values = {
        key: _without_unknowns(_protected(value) if key in sensitive else value, [key], unknown)
        for key, value in attrs.items()
    }
    return {"values": values, "unknown": unknown}


def _protected(value: Any) -> Any:
    """A sensitive value as the file may hold it: a fingerprint, or unknown as a whole (a value only
    partly known may hold the secret's known part). Plans hold fingerprints already; this makes sure."""
    if value is None or secrets.is_fingerprint(value):
        return value
    return UNKNOWN if contains_unknown(value) else secrets.fingerprint(value)


def _without_unknowns(value: Any, path: ValuePath, unknown: list[ValuePath]) -> Any:
    """``value`` with each UNKNOWN in it made null, its path added to ``unknown``."""
    if value is UNKNOWN:
        unknown.append(path)
        return None
    if isinstance(value, dict):
        return {key: _without_unknowns(item, [*path, key], unknown) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_unknowns(item, [*path, index], unknown) for index, item in enumerate(value)]
    return value


def _attrs_in(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    values: dict[str, Any] = raw["values"]
    for path in raw["unknown"]:
        *parents, last = path
        target: Any = values
        for step in parents:
            target = target[step]
        target[last] = UNKNOWN
    return values
