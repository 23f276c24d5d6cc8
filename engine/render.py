"""Plans for people (Terraform-like text) and for machines (JSON).

Sensitive attributes print as ``(sensitive)`` in both; values only apply will
know print as ``(known after apply)``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from engine.changes import Action, Plan, ResourceChange
from engine.references import UNKNOWN, contains_unknown
from engine.secrets import SENSITIVE, redact

FORMAT_VERSION = "1.0"

def _value(value: Any) -> str:
    if value is UNKNOWN or contains_unknown(value):
        return "(known after apply)"
    return json.dumps(value, default=str)


def _shown(change: ResourceChange, key: str, value: Any) -> str:
    return SENSITIVE if key in change.sensitive and value is not None else _value(value)


def _attribute_lines(change: ResourceChange) -> list[tuple[str, str, str]]:
    """(marker, key, text) per attribute worth showing for this change."""
    before, after = change.before or {}, change.after or {}
    lines = []
    if change.action in (Action.CREATE, Action.READ, Action.ADOPT):
        for key in sorted(after):
            lines.append(("+", key, _shown(change, key, after[key])))
    elif change.action == Action.DELETE:
        for key in sorted(before):
            lines.append(("-", key, f"{_shown(change, key, before[key])} -> null"))
    else:
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key, before.get(key))
            if key in change.after_unknown or old != new:
                note = "  # forces replacement" if key in change.requires_replace else ""
                lines.append(("~", key, f"{_shown(change, key, old)} -> {_shown(change, key, new)}{note}"))
            elif key == "id":
                lines.append((" ", key, _shown(change, key, old)))
    return lines


def render_change(change: ResourceChange, color: bool) -> str:
    words = change.action.words
    symbol, colour = words.symbol, words.colour
    reason = f" ({change.reason})" if change.reason else ""
    title = f"  # {change.address} {words.headline}{reason}"
    out = [click.style(title, bold=True) if color else title]
    if change.note:
        out.append(f"  # {change.note}")
    kind = "data" if change.address.is_data else "resource"
    head = f'{symbol:>3} {kind} "{change.address.type}" "{change.address.name}" {{'
    out.append(click.style(head, fg=colour) if color else head)
    lines = _attribute_lines(change)
    width = max((len(key) for _, key, _ in lines), default=0)
    for marker, key, text in lines:
        line = f"      {marker} {key.ljust(width)} = {text}"
        out.append(click.style(line, fg=colour) if color and marker != " " else line)
    if change.requires_replace == ["(replace requested)"]:
        out.append("      # replacement requested with --replace")
    if change.requires_replace == ["(tainted)"]:
        out.append("      # tainted: the last apply left it unable to reach its desired state")
    out.append("    }")
    return "\n".join(out)


def render_plan(plan: Plan, drift: list[ResourceChange] | None = None, color: bool = False) -> str:
    parts: list[str] = []
    if plan.refresh_only:
        drift = [c for c in plan.changes if c.action != Action.NOOP]
    if drift:
        parts.append("Note: objects have changed outside of labform:\n")
        for change in drift:
            parts.append(f"  # {change.address} {change.reason}")
            for marker, key, text in _attribute_lines(change):
                parts.append(f"      {marker} {key} = {text}")
        parts.append("")
    for notice in plan.notices:
        parts.append(f"Warning: {notice.address}: {notice.message}\n")
    shown = [c for c in plan.changes if c.action != Action.NOOP]
    if plan.refresh_only:
        if not shown:
            parts.append("No changes. Your state matches the cloud.")
        else:
            parts.append("Apply this refresh-only plan to record these changes in state (no remote object changes).")
        return "\n".join(parts)
    if not shown:
        parts.append("No changes. Your cloud matches the plan.")
        return "\n".join(parts)
    parts.append("labform will perform the following actions:\n")
    for change in shown:
        parts.append(render_change(change, color))
        parts.append("")
    counts = plan.counts()
    adopting = f"{counts['adopt']} to adopt, " if counts["adopt"] else ""
    parts.append(f"Plan: {adopting}{counts['add']} to add, {counts['change']} to change, {counts['destroy']} to destroy.")
    return redact("\n".join(parts))


def _masked(change: ResourceChange, attrs: dict[str, Any] | None, mask: bool) -> dict[str, Any] | None:
    """Unknowns become null; sensitive values (already fingerprints) become "(sensitive)"."""
    if attrs is None:
        return None
    return {
        key: (SENSITIVE if mask and key in change.sensitive and value is not None else (None if contains_unknown(value) else value))
        for key, value in attrs.items()
    }


def change_to_dict(change: ResourceChange, mask: bool = True) -> dict[str, Any]:
    return {
        "address": str(change.address),
        "mode": "data" if change.address.is_data else "managed",
        "type": change.address.type,
        "name": change.address.name,
        "remote_id": change.remote_id,
        "action_reason": change.reason or None,
        "note": change.note,
        "change": {
            "actions": change.action.json_actions(),
            "before": _masked(change, change.before, mask),
            "after": _masked(change, change.after, mask),
            "after_unknown": {key: True for key in sorted(change.after_unknown)},
            "before_sensitive": {key: True for key in sorted(change.sensitive & set(change.before or {}))},
            "after_sensitive": {key: True for key in sorted(change.sensitive & set(change.after or {}))},
            "replace_paths": [[key] for key in change.requires_replace],
            **({"importing": {"id": change.remote_id}} if change.action == Action.ADOPT else {}),
        },
    }


def plan_to_dict(plan: Plan, drift: list[ResourceChange] | None = None, mask: bool = True) -> dict[str, Any]:
    """The JSON plan. ``mask=False`` is for saved plan files, which hold fingerprints, never secrets."""
    return {
        "format_version": FORMAT_VERSION,
        "state": {"serial": plan.state_serial, "lineage": plan.state_lineage},
        "files": plan.file_hashes,
        "destroy": plan.destroy,
        "refresh_only": plan.refresh_only,
        "resource_changes": [change_to_dict(c, mask) for c in plan.changes],
        "resource_drift": [change_to_dict(c) for c in drift or []],
        "notices": [{"address": str(n.address), "message": n.message} for n in plan.notices],
        "summary": {**plan.counts(), "has_changes": plan.has_changes},
    }


def plan_json(plan: Plan, drift: list[ResourceChange] | None = None) -> str:
    return redact(json.dumps(plan_to_dict(plan, drift), indent=2, sort_keys=True, default=str))
