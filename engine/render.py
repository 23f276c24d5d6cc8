"""Plans for people (Terraform-like text) and for machines (JSON).

Sensitive attributes print as ``(sensitive)`` in both; values only apply will
know print as ``(known after apply)``.

The JSON plan has the top-level keys of Terraform's JSON plan (format 1.2), with
the same meanings (docs/plan-json.md), so policy tools written for Terraform can
read it; the keys built from the plan's configuration and prior state are there
when the caller passes those. A value known only after apply is left out of
``after`` and ``planned_values`` and marked in ``after_unknown``, as Terraform
marks it; a sensitive one is ``(sensitive)`` everywhere.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from labform.engine.addresses import Address
from labform.engine.arguments import data_source, resource_type, sensitive_keys, type_named
from labform.engine.changes import (
    NO_CHANGES,
    REPLACE_MARKS,
    Action,
    ActionReason,
    Check,
    CheckStatus,
    Plan,
    ResourceChange,
    resolve_commands,
    stays_red,
)
from labform.engine.events import module_address
from labform.engine.provider_address import provider_address
from labform.engine.references import UNKNOWN, Reference, contains_unknown, dig, references_in, substitute
from labform.engine.secrets import is_fingerprint
from labform.engine.version import labform_version
from labform.providers import masking, registry
from labform.providers.masking import SENSITIVE, redact

if TYPE_CHECKING:
    from labform.engine.config import Block, PlanConfig
    from labform.engine.state import State

FORMAT_VERSION = "1.2"  # Terraform's JSON plan format this view follows (Terraform 1.5 and later)
STATE_FORMAT_VERSION = "1.0"  # Terraform's JSON state format: prior_state and show -json of a state
_LEFT_OUT = object()  # the known part of a value that is wholly unknown


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
    if change.requires_replace == [REPLACE_MARKS[ActionReason.REPLACE_BY_REQUEST]]:
        out.append("      # replacement requested with --replace")
    if change.requires_replace == [REPLACE_MARKS[ActionReason.REPLACE_BECAUSE_TAINTED]]:
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
    for held in plan.unresolved:
        parts.append(f"{held.line()}\n  {held.why}\n  apply refuses until you say which:\n{held.commands('    ')}\n")
    shown = [c for c in plan.changes if c.action != Action.NOOP]
    parts += [f"  # {source} has moved to {target}" for source, target in plan.moved]
    parts += [
        f"  # {address} will no longer be managed by labform (the remote object is kept)" for address in plan.forgotten
    ]
    if plan.moved or plan.forgotten:
        parts.append("")
    if plan.refresh_only:
        if not shown:
            parts.append("No changes. Your state matches the cloud.")
        else:
            parts.append("Apply this refresh-only plan to record these changes in state (no remote object changes).")
        return "\n".join(parts)
    if not shown and not plan.has_changes:
        parts.append(NO_CHANGES)
    else:
        parts.append("labform will perform the following actions:\n")
        for change in shown:
            parts.append(render_change(change, color))
            parts.append("")
        parts.append(f"Plan: {plan.counts_phrase()}.")
    if plan.checks:
        parts.append("\n" + render_checks(plan, color))
    return redact("\n".join(parts))


def render_checks(plan: Plan, color: bool = False) -> str:
    """The plan's checks, one line each, then an error for each failing one: a check is never a
    change, so it moves no count and no exit code of plan; apply exits 1 while one fails."""
    judged = (
        "judged on what the cloud reports now"
        if plan.refreshed
        else "as state recorded them: -refresh=false read nothing from the cloud"
    )
    lines = [f"Checks ({judged}):"]
    lines += [f"  {check.line()}" for check in plan.checks]
    for check in plan.failed_checks:
        lines.append("\n" + check_error(check, color))
    return "\n".join(lines)


def check_hint(check: Check) -> str:
    """What a failing check does to apply, and what turns it green."""
    ephemeral = resource_type(check.address).ephemeral
    return f"apply exits 1 while it fails; {stays_red(check.address, ephemeral)}"


def check_error(check: Check, color: bool = False) -> str:
    """``Error: check ADDR failed: WHY`` and what turns it green, as plan and apply print it."""
    head = click.style("Error:", fg="red", bold=True) if color else "Error:"
    return f"{head} check {check.address} failed: {check.why}\n  {check_hint(check)}"


def _split_unknown(value: Any) -> tuple[Any, Any]:
    """A value's known part and its mask in Terraform's ``after_unknown``: an unknown is left out of
    an object (null in a list, which keeps its positions) and ``true`` in the mask; a wholly known
    value's mask is ``false``."""
    if value is UNKNOWN:
        return _LEFT_OUT, True
    if isinstance(value, dict):
        parts = {key: _split_unknown(item) for key, item in value.items()}
        masks = {key: mask for key, (_, mask) in parts.items() if mask is not False}
        return {key: known for key, (known, _) in parts.items() if known is not _LEFT_OUT}, masks or False
    if isinstance(value, list):
        pieces = [_split_unknown(item) for item in value]
        masks_in_order = [mask for _, mask in pieces]
        known_items = [None if known is _LEFT_OUT else known for known, _ in pieces]
        return known_items, masks_in_order if any(mask is not False for mask in masks_in_order) else False
    return value, False


def _values(
    attrs: dict[str, Any], sensitive: set[str] | frozenset[str], unknown: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An object's known values (sensitive ones as null) and its ``after_unknown``: every
    attribute ``unknown`` names or whose value holds an unknown, those not in ``attrs`` too."""
    known, masks = {}, {}
    for key, value in attrs.items():
        part, mask = _split_unknown(value)
        if key in unknown and mask is False:
            part, mask = _LEFT_OUT, True
        if part is not _LEFT_OUT:
            known[key] = None if key in sensitive else part  # null beside *_sensitive: true, as the contract has it
        if mask is not False:
            masks[key] = mask
    masks.update({key: True for key in unknown if key not in attrs})
    return known, dict(sorted(masks.items()))


def _sensitive_of(change: ResourceChange, attrs: dict[str, Any] | None) -> dict[str, bool] | bool:
    """``before_sensitive``/``after_sensitive``: the sensitive attributes, ``false`` with no object."""
    return False if attrs is None else {key: True for key in sorted(change.sensitive & set(attrs))}


def _address_fields(address: Address) -> dict[str, Any]:
    """How Terraform names an object in the plan: its address taken apart, its provider's address;
    ``module_address`` inside a module, ``index`` for an instance of a block with count or for_each."""
    fields: dict[str, Any] = {
        "address": str(address),
        "mode": "data" if address.is_data else "managed",
        "type": address.type,
        "name": address.name,
        "provider_name": provider_address(address.provider),
    }
    if address.module:
        fields["module_address"] = module_address(address)
    if address.key is not None:
        fields["index"] = address.key
    return fields


def change_to_dict(change: ResourceChange) -> dict[str, Any]:
    """One change as Terraform's ``resource_changes[]`` has it; ``action_reason`` only in Terraform's
    words (labform's own reasons are for people: the text plan shows them), left out where it has none."""
    after, after_unknown = (
        (None, {}) if change.after is None else _values(change.after, change.sensitive, change.after_unknown)
    )
    marks = set(REPLACE_MARKS.values())
    return {
        **_address_fields(change.address),
        **({"action_reason": change.action_reason.value} if change.action_reason else {}),
        "remote_id": change.remote_id,
        "note": change.note,
        "change": {
            "actions": change.action.json_actions(),
            "before": None if change.before is None else _values(change.before, change.sensitive)[0],
            "after": after,
            "after_unknown": after_unknown,
            "before_sensitive": _sensitive_of(change, change.before),
            "after_sensitive": _sensitive_of(change, change.after),
            "replace_paths": [[key] for key in change.requires_replace if key not in marks],
            **({"importing": {"id": change.remote_id}} if change.action == Action.ADOPT else {}),
        },
    }


def _with_previous(plan: Plan) -> list[dict[str, Any]]:
    """The changes, each moved object's with the address it had (Terraform's ``previous_address``)."""
    before = {target: source for source, target in plan.moved}
    changes = [change_to_dict(c) for c in plan.changes]
    for change, entry in zip(plan.changes, changes, strict=True):
        if change.address in before:
            entry["previous_address"] = str(before[change.address])
    return changes


def _forget_to_dict(address: Address, state: State | None) -> dict[str, Any]:
    """A ``removed:`` object let go of, as Terraform writes one: action ``forget``, nothing after."""
    item = state.resources.get(str(address)) if state is not None else None
    sensitive = sensitive_keys(resource_type(address), item.attributes if item else None)
    before = _values(item.attributes, sensitive)[0] if item else None
    change = {
        "actions": ["forget"],
        "before": before,
        "after": None,
        "after_unknown": {},
        "before_sensitive": False if before is None else {key: True for key in sorted(sensitive & set(before))},
        "after_sensitive": False,
    }
    return {**_address_fields(address), "change": change}


# A block's status over its instances, as Terraform aggregates it: the first of these any instance has.
_AGGREGATE = (CheckStatus.ERROR, CheckStatus.FAIL, CheckStatus.UNKNOWN, CheckStatus.PASS)


def _static_module(address: Address) -> str:
    """The module a block is written in, by call names only (``module.ci``): Terraform's static address."""
    return ".".join(f"module.{name}" for name, _ in address.module)


def _static_display(address: Address) -> str:
    """``module.ci.bitbar_run.smoke`` for ``module.ci["checkout"].bitbar_run.smoke["a"]``: the block as written."""
    bare = str(Address(address.type, address.name, address.is_data))
    return f"{_static_module(address)}.{bare}" if address.module else bare


def _check_instance(check: Check) -> dict[str, Any]:
    """One instance's verdict: its whole address, ``instance_key`` for a count or for_each instance,
    ``module`` for one inside a module instance; ``problems`` when it fails; ``reason`` is labform's
    own (how it failed, or what it waits for)."""
    address: dict[str, Any] = {"to_display": str(check.address)}
    if check.address.module:
        address["module"] = module_address(check.address)
    if check.address.key is not None:
        address["instance_key"] = check.address.key
    instance: dict[str, Any] = {"address": address, "status": check.status.value, "reason": check.why or None}
    if check.status == CheckStatus.FAIL:
        instance["problems"] = [{"message": check.why}]
    return instance


def checks_to_list(checks: list[Check]) -> list[dict[str, Any]]:
    """Terraform's ``checks``: one entry per block as written (its address without instance keys), its
    status aggregated over its instances, each instance's verdict in ``instances``; both sorted by
    ``to_display``, as Terraform sorts them."""
    blocks: dict[str, list[Check]] = {}
    for check in checks:
        blocks.setdefault(_static_display(check.address), []).append(check)
    entries = []
    for static, instances in sorted(blocks.items()):
        first = instances[0].address
        statuses = {check.status for check in instances}
        address: dict[str, Any] = {
            "kind": "resource",
            "to_display": static,
            "mode": "data" if first.is_data else "managed",
            "type": first.type,
            "name": first.name,
        }
        if first.module:
            address["module"] = _static_module(first)
        entries.append(
            {
                "address": address,
                "status": next(status for status in _AGGREGATE if status in statuses).value,
                "instances": sorted((_check_instance(c) for c in instances), key=lambda i: i["address"]["to_display"]),
            }
        )
    return entries


def _check_counts(plan: Plan) -> dict[str, int]:
    return {status.value: sum(1 for c in plan.checks if c.status == status) for status in CheckStatus}


def _known(
    attrs: dict[str, Any], sensitive: set[str] | frozenset[str], unknown: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The known values (Terraform leaves unknown ones out of ``values``), sensitive ones masked."""
    return _values(attrs, sensitive, unknown)[0]


def _resource(address: Address, values: dict[str, Any], sensitive: set[str] | frozenset[str]) -> dict[str, Any]:
    return {
        **_address_fields(address),
        "values": values,
        "sensitive_values": {key: True for key in sorted(sensitive & set(values))},
    }


def _planned_resources(plan: Plan) -> list[dict[str, Any]]:
    """Every object as it will be once the plan is applied (deleted ones are gone)."""
    return sorted(
        (
            _resource(c.address, _known(c.after, c.sensitive, c.after_unknown), c.sensitive)
            for c in plan.changes
            if c.after is not None
        ),
        key=lambda item: item["address"],
    )


def _prior_resources(plan: Plan, state: State | None) -> list[dict[str, Any]]:
    """Every managed object as refreshed before planning; those --target left out, as state has them."""
    prior = {
        str(c.address): _resource(c.address, _known(c.before, c.sensitive), c.sensitive)
        for c in plan.changes
        if c.before is not None
    }
    planned = {str(c.address) for c in plan.changes}
    for key, item in (state.resources if state else {}).items():
        if key not in planned:
            address = Address.parse(key)
            sensitive = sensitive_keys(resource_type(address), item.attributes)
            prior[key] = _resource(address, _known(item.attributes, sensitive), sensitive)
    return [prior[key] for key in sorted(prior)]


def _holds_secret(value: Any) -> bool:
    """State keeps a sensitive value as its fingerprint, so an output holding one is sensitive;
    so is one holding a secret this command knows (a sensitive variable's value)."""
    if isinstance(value, dict):
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return is_fingerprint(value) or masking.holds(value)


def _planned_output(plan: Plan, config: PlanConfig, expression: Any) -> tuple[Any, bool]:
    """An output's value once the plan is applied (UNKNOWN where only apply knows it, a data
    source read while planning included), and whether it holds a sensitive attribute."""
    changes = {c.address: c for c in plan.changes if c.after is not None}
    sensitive = False

    def lookup(ref: Reference) -> Any:
        nonlocal sensitive
        if ref.splat:
            found = [change for address, change in sorted(changes.items()) if address.block == ref.target]
            sensitive = sensitive or any(ref.attribute and ref.attribute[0] in c.sensitive for c in found)
            return [change.after for change in found]
        change = changes.get(ref.target)
        if change is None:
            return UNKNOWN
        sensitive = sensitive or ref.attribute[0] in change.sensitive
        try:
            return dig(change.after, ref.attribute)
        except (KeyError, IndexError, ValueError, TypeError):
            return UNKNOWN

    value = substitute(expression, config.scope.resolver(lookup))
    return value, sensitive or masking.holds(value)


def _output_change(
    before: Any, after: Any, gone: bool, before_sensitive: bool, after_sensitive: bool
) -> dict[str, Any]:
    unknown = not gone and contains_unknown(after)
    if gone:
        actions = ["delete"] if before is not None else ["no-op"]
    elif before is None:
        actions = ["create"]
    else:
        actions = ["update"] if unknown or before != after else ["no-op"]
    # An unknown value is left out (Terraform writes no ``after``), never null.
    shown_after = {} if unknown else {"after": None if gone or after_sensitive else after}
    return {
        "actions": actions,
        "before": None if before_sensitive else before,
        **shown_after,
        "after_unknown": unknown,
        "before_sensitive": before_sensitive,
        "after_sensitive": after_sensitive,
    }


def _outputs(plan: Plan, config: PlanConfig, state: State | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``output_changes`` (prior values from state) and ``planned_values.outputs`` (known values only)."""
    prior = state.outputs if state else {}
    changes, planned = {}, {}
    for name in sorted(set(config.outputs) | set(prior)):
        gone = plan.destroy or name not in config.outputs
        after, sensitive = (None, False) if gone else _planned_output(plan, config, config.outputs[name])
        changes[name] = _output_change(prior.get(name), after, gone, _holds_secret(prior.get(name)), sensitive)
        if not gone:
            planned[name] = {
                "sensitive": sensitive,
                **({} if contains_unknown(after) else {"value": changes[name]["after"]}),
            }
    return changes, planned


def _expression(value: Any, sensitive: bool) -> dict[str, Any]:
    """An argument as written: the objects it refers to, or its constant value (``$${`` unescaped)."""
    referenced: list[str] = []
    for ref in references_in(value):
        if ref.kind in ("resource", "data"):
            referenced += [f"{ref.address}.{'.'.join(ref.attribute)}", str(ref.address)]
    if referenced:
        return {"references": list(dict.fromkeys(referenced))}
    constant = substitute(value, lambda ref: UNKNOWN)  # no reference is left: this only unescapes $${
    return {"constant_value": None if sensitive else constant}


def _block(block: Block) -> dict[str, Any]:
    kind = data_source(block.address) if block.address.is_data else resource_type(block.address)
    sensitive = sensitive_keys(kind, block.arguments)
    return {
        "address": str(block.address),
        "mode": "data" if block.address.is_data else "managed",
        "type": block.address.type,
        "name": block.address.name,
        "provider_config_key": block.address.provider,
        "expressions": {key: _expression(value, key in sensitive) for key, value in sorted(block.arguments.items())},
        "depends_on": [str(a) for a in block.depends_on],
    }


def _configuration(config: PlanConfig) -> dict[str, Any]:
    """The plan's blocks as written, references kept as references (env and var are already resolved)."""
    providers = {}
    for name, settings in sorted(config.providers.items()):
        sensitive = registry.provider(name).Settings.fields_with("sensitive")
        providers[name] = {
            "name": name,
            "full_name": provider_address(name),
            "expressions": {k: _expression(v, k in sensitive) for k, v in sorted(settings.items())},
        }
    return {
        "provider_config": providers,
        "root_module": {
            "resources": sorted((_block(b) for b in config.blocks()), key=lambda item: item["address"]),
            "outputs": {
                name: {"expression": _expression(value, False)} for name, value in sorted(config.outputs.items())
            },
        },
    }


def _complete(plan: Plan, config: PlanConfig, state: State | None) -> bool:
    """False when --target left objects out (labform defers nothing else, Terraform's other reason)."""
    in_state = state.resources if state else {}
    if plan.refresh_only:  # an ephemeral object has nothing to refresh
        expected = {key for key, item in in_state.items() if not type_named(item.type).ephemeral}
    elif plan.destroy:
        expected = set(in_state)
    else:
        expected = set(in_state) | {str(address) for address in config.resources}
    return expected <= {str(c.address) for c in plan.changes}


def versions(format_version: str) -> dict[str, str]:
    """The keys a JSON document opens with: its format, and labform's version twice, as
    ``terraform_version`` (Terraform's decoders require it) and as the authoritative ``labform_version``."""
    version = labform_version()
    return {"format_version": format_version, "terraform_version": version, "labform_version": version}


def plan_to_dict(
    plan: Plan,
    drift: list[ResourceChange] | None = None,
    config: PlanConfig | None = None,
    state: State | None = None,
) -> dict[str, Any]:
    """The JSON plan, a view for people's tools (a saved plan has its own format, engine/planformat.py).
    ``config`` and ``state`` (the state planned against) add the keys built from them:
    ``configuration``, ``variables``, ``output_changes``, the outputs' values, ``complete``."""
    document: dict[str, Any] = {
        **versions(FORMAT_VERSION),
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # A plan that failed is an error, never printed as a plan: what is printed applies.
        "applyable": plan.has_changes,
        "errored": False,
        "planned_values": {"root_module": {"resources": _planned_resources(plan)}},
        "prior_state": {
            **versions(STATE_FORMAT_VERSION),
            "values": {"root_module": {"resources": _prior_resources(plan, state)}},
        },
        "resource_changes": [*_with_previous(plan), *(_forget_to_dict(a, state) for a in plan.forgotten)],
        "resource_drift": [change_to_dict(c) for c in drift or []],
        # labform's own: what apply checks a saved plan against, and the plan's words for people.
        "state": {"serial": plan.state_serial, "lineage": plan.state_lineage},
        "files": plan.file_hashes,
        "destroy": plan.destroy,
        "refresh_only": plan.refresh_only,
        "notices": [{"address": str(n.address), "message": n.message} for n in plan.notices],
        "unresolved": [
            {"address": str(u.address), "since": u.since, "why": u.why, "resolve": resolve_commands(u.address)}
            for u in plan.unresolved
        ],
        "checks": checks_to_list(plan.checks),
        "refresh": plan.refreshed,
        "summary": {**plan.counts(), "has_changes": plan.has_changes, "checks": _check_counts(plan)},
    }
    if state is not None:
        document["prior_state"]["values"]["outputs"] = {
            name: {"sensitive": _holds_secret(value), "value": None if _holds_secret(value) else value}
            for name, value in sorted(state.outputs.items())
        }
    if config is not None:
        document["variables"] = {
            name: {"value": None if masking.holds(value) else value} for name, value in sorted(config.variables.items())
        }
        document["configuration"] = _configuration(config)
        document["output_changes"], document["planned_values"]["outputs"] = _outputs(plan, config, state)
        document["complete"] = _complete(plan, config, state)
    return document


def plan_json(
    plan: Plan, drift: list[ResourceChange] | None = None, config: PlanConfig | None = None, state: State | None = None
) -> str:
    return redact(
        json.dumps(plan_to_dict(plan, drift, config=config, state=state), indent=2, sort_keys=True, default=str)
    )
