"""The Markdown report of one reconciliation, like a pull-request comment: what drifted (by
address, each attribute old → new), then the plan as ``labform plan`` writes a CI summary.

Drift is described once, here, for the report, the record and ``status -json`` alike:
``[{"address", "reason", "attributes": {name: {"old", "new"}}}]``, a sensitive
attribute's values shown as ``(sensitive)``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from labform.providers.masking import SENSITIVE, redact

if TYPE_CHECKING:
    from labform.engine.changes import ResourceChange
    from labform.engine.reconcile.records import Reconciliation
    from labform.engine.runner import PlanResult


def drift_entries(drift: list[ResourceChange]) -> list[dict[str, Any]]:
    """Which addresses drifted, and which of their attributes, from what to what."""
    entries = []
    for change in drift:
        before, after = change.before or {}, change.after or {}
        attributes = {}
        for name in sorted(set(before) | set(after)) if change.after is not None else ():  # gone: the reason says it
            old, new = before.get(name), after.get(name)
            if name in before and old != new:
                shown = name in change.sensitive
                attributes[name] = {"old": SENSITIVE if shown else old, "new": SENSITIVE if shown else new}
        entries.append({"address": str(change.address), "reason": change.reason, "attributes": attributes})
    return entries


def _value(value: Any) -> str:
    return "`" + json.dumps(value, default=str).replace("|", "\\|") + "`"


def markdown(workspace: str, item: Reconciliation, planned: PlanResult | None) -> str:
    from labform.engine import ci

    lines = [
        f"## labform reconcile `{workspace}` #{item.id}: {item.outcome}",
        "",
        f"Commit `{item.commit}`" + (f", worker `{item.worker}`" if item.worker else ""),
    ]
    if item.policy.get("broken"):
        lines += ["", "Policy rules that did not hold: " + ", ".join(f"`{n}`" for n in item.policy["broken"])]
    if item.error:
        lines += ["", f"**Error:** {item.error}"]
    if item.drift:
        lines += ["", "### Drift: changed outside labform", ""]
        for entry in item.drift:
            lines.append(f"#### `{entry['address']}` ({entry['reason']})")
            lines.append("")
            if entry["attributes"]:
                lines += ["| attribute | was | now |", "| --- | --- | --- |"]
                lines += [
                    f"| `{name}` | {_value(values['old'])} | {_value(values['new'])} |"
                    for name, values in entry["attributes"].items()
                ]
                lines.append("")
    if item.applied:
        lines += ["", "### Applied", "", "| address | action | result |", "| --- | --- | --- |"]
        lines += [f"| `{a['address']}` | {a['action']} | {a['result']} |" for a in item.applied]
    if planned is not None:
        lines += ["", ci.plan_markdown(workspace, planned.plan, planned.drift)]
    return redact("\n".join(lines).rstrip() + "\n")
