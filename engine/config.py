"""A plan as typed blocks, checked against the providers' schemas before any API call.

Everything a user can get wrong in a plan file is found here, with the
file:line:col of the offending key: unknown sections, types, fields and
attributes, missing env vars and variables, bad references, wrong value
types. All errors of one pass are reported together.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.addresses import Address, format_key
from engine.arguments import check_known_values, plain_message, register_secrets
from engine.errors import ConfigError, ConfigErrors, SourceLocation
from engine.instances import InstanceError, instances
from engine.loader import KeyPath, LoadedPlan, Positions, load
from engine.moves import Move, Removal, parse_moves, parse_removals, refuse_still_planned
from engine.references import Reference, references_in, substitute
from engine.variables import variable_values
from providers import registry
from providers.base import Arguments

RESOURCE_META = ("depends_on", "lifecycle", "for_each", "count")
DATA_META = ("depends_on", "for_each", "count")
# What is known before any object is read: substituted while the plan is built.
IN_INSTANCE = frozenset({"env", "var", "local", "each", "count"})


class Lifecycle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prevent_destroy: bool = False
    ignore_changes: list[str] = []
    create_before_destroy: bool = False


@dataclass
class Block:
    """One resource or data source as written, env and var already substituted."""

    address: Address
    arguments: dict[str, Any]
    depends_on: list[Address]
    lifecycle: Lifecycle
    location: SourceLocation | None
    key_path: KeyPath

    def references(self) -> list[Reference]:
        return [r for r in references_in(self.arguments) if r.kind in ("resource", "data")]


@dataclass
class PlanConfig:
    root: Path
    providers: dict[str, dict[str, Any]]
    resources: dict[Address, Block]
    data: dict[Address, Block]
    outputs: dict[str, Any]
    positions: Positions
    file_hashes: dict[str, str]
    variables: dict[str, Any] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)

    @cached_property
    def _instances(self) -> dict[Address, list[Address]]:
        found: dict[Address, list[Address]] = {}
        for address in sorted([*self.resources, *self.data]):
            found.setdefault(address.block, []).append(address)
        return found

    def instances_of(self, block: Address) -> list[Address]:
        """A block's instances in key order (one for a block without for_each or count; none for count 0)."""
        return self._instances.get(block.block, [])

    def targets(self, ref: Reference) -> list[Address]:
        """The objects a reference reads: every instance for a splat, else the one it names."""
        return self.instances_of(ref.target) if ref.splat else [ref.target]

    def block(self, address: Address) -> Block:
        return (self.data if address.is_data else self.resources)[address]

    def blocks(self) -> list[Block]:
        return [*self.data.values(), *self.resources.values()]

    def providers_used(self) -> set[str]:
        return {a.provider for a in (*self.resources, *self.data)} | set(self.providers)


def suggestion(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unresolved(ref: Reference) -> str:
    """Keep a failed reference as written, so later checks skip it instead of piling on errors."""
    return "${" + ref.text + "}"


class _Builder:
    """Collects errors while turning a LoadedPlan into a PlanConfig."""

    def __init__(self, loaded: LoadedPlan, var_overrides: dict[str, Any]):
        self.loaded = loaded
        self.positions = loaded.positions
        self.errors: list[ConfigError] = []
        self.variables = variable_values(
            loaded.sections["variables"],
            var_overrides,
            lambda name, message: self.error(("variables", name), message),
            "--var NAME=VALUE or a -var-file",
        )
        self.locals: dict[str, Any] = {}
        self.resolving: list[str] = []  # the locals being worked out, innermost last (a cycle's path)
        # Each block written (its address without a key): "for_each", "count", or None for neither.
        self.declared: dict[Address, str | None] = {}
        self.unexpanded: set[Address] = set()  # blocks whose instances could not be known: read no further

    def error(self, path: KeyPath, message: str, subject: str | None = None) -> None:
        self.errors.append(ConfigError(message, self.positions.of(path), subject))

    def resolve_env_and_vars(
        self, value: Any, path: KeyPath, subject: str | None, instance: dict[str, Any] | None = None
    ) -> Any:
        """``value`` with env, var and local references (and, in an instance of a block, each and
        count) substituted; references to objects are left for planning."""

        def lookup(ref: Reference) -> Any:
            if ref.kind == "env":
                if ref.name in os.environ:
                    return os.environ[ref.name]
                if ref.default is not None:
                    return ref.default
                self.error(
                    path,
                    f"environment variable {ref.name} is not set (use ${{env.{ref.name}:-default}} for a default)",
                    subject,
                )
                return unresolved(ref)
            if ref.kind == "local":
                return self.local(ref, path, subject)
            if ref.kind in ("each", "count"):
                if instance is None or ref.kind not in instance:
                    where = "for_each" if ref.kind == "each" else "count"
                    self.error(path, f"${{{ref.text}}} is set only in a block with {where}", subject)
                    return unresolved(ref)
                return instance[ref.kind][ref.name]
            if ref.name not in self.variables:
                if ref.name not in self.loaded.sections["variables"]:  # a declared one was reported already
                    self.error(path, f"unknown variable '{ref.name}'{suggestion(ref.name, self.variables)}", subject)
                return unresolved(ref)
            return self.variables[ref.name]

        if isinstance(value, dict):
            return {k: self.resolve_env_and_vars(v, path + (k,), subject, instance) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve_env_and_vars(v, path + (i,), subject, instance) for i, v in enumerate(value)]
        try:
            return substitute(value, lookup, kinds=IN_INSTANCE)
        except ValueError as exc:
            self.error(path, str(exc), subject)
            return value

    def local(self, ref: Reference, path: KeyPath, subject: str | None) -> Any:
        """A local's value, worked out once, the first time it is read; a cycle is reported with its path."""
        name, declared = ref.name, self.loaded.sections["locals"]
        if name in self.locals:
            return self.locals[name]
        if name not in declared:
            self.error(path, f"unknown local '{name}'{suggestion(name, declared)}", subject)
            return unresolved(ref)
        if name in self.resolving:
            cycle = " -> ".join(f"local.{each}" for each in [*self.resolving[self.resolving.index(name) :], name])
            self.error(("locals", name), f"locals refer to each other in a cycle: {cycle}", f"local {name}")
            return unresolved(ref)
        self.resolving.append(name)
        try:
            value = self.resolve_env_and_vars(declared[name], ("locals", name), f"local {name}")
        finally:
            self.resolving.pop()
        self.locals.setdefault(name, value)
        return self.locals[name]

    def providers(self) -> dict[str, dict[str, Any]]:
        result = {}
        for name, body in self.loaded.sections["providers"].items():
            path = ("providers", name)
            if name not in registry.provider_names():
                self.error(path, f"unknown provider '{name}'{suggestion(name, registry.provider_names())}")
                continue
            body = {} if body is None else body
            if not isinstance(body, dict):
                kind = "string" if isinstance(body, str) else type(body).__name__  # not the value: it may be a key
                self.error(path, f"providers.{name} must be a mapping of settings, not a {kind}")
                continue
            settings_model = registry.provider(name).Settings
            for key in body:
                if key not in settings_model.model_fields:
                    self.error(
                        path + (key,),
                        f"unknown setting '{key}'{suggestion(key, settings_model.model_fields)}",
                        f"provider {name}",
                    )
            resolved = self.resolve_env_and_vars(body, path, f"provider {name}")
            register_secrets(settings_model, resolved)
            result[name] = resolved
        return result

    def blocks(self, section: str) -> dict[Address, Block]:
        is_data = section == "data"
        find = registry.data_source if is_data else registry.resource_type
        meta = DATA_META if is_data else RESOURCE_META
        result: dict[Address, Block] = {}
        for key, body in self.loaded.sections[section].items():
            path = (section, key)
            try:
                bare = Address.parse(key)
            except ValueError as exc:
                self.error(path, str(exc))
                continue
            if bare.is_data:
                self.error(path, "write data sources under 'data:' without the 'data.' prefix")
                continue
            address = Address(bare.type, bare.name, is_data)
            implementation = find(address.type)
            if implementation is None:
                kind = "data source" if is_data else "resource type"
                known = (
                    registry.data_sources() if is_data else registry.resource_types()
                )  # every cloud's, for the suggestion
                self.error(path, f"unknown {kind} '{address.type}'{suggestion(address.type, known)}", str(address))
                continue
            if not isinstance(body, dict):
                self.error(path, "must be a mapping of arguments", str(address))
                continue
            args_model = implementation.Args
            fields = args_model.model_fields  # read once: pydantic builds it per access
            misspelt = set()
            for field_name in body:
                if field_name not in fields and field_name not in meta:
                    close = difflib.get_close_matches(field_name, [*fields, *meta], n=1)
                    misspelt.update(close)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    self.error(path + (field_name,), f"unknown field '{field_name}'{hint}", str(address))
            keyed = {k: body[k] for k in ("for_each", "count") if k in body}
            self.declared[address] = next(iter(keyed), None)
            reported = len(self.errors)
            try:
                made = instances(self.resolve_env_and_vars(keyed, path, str(address)))
            except InstanceError as exc:
                if len(self.errors) == reported:  # not a mistake reported already (an unknown variable)
                    self.error(path + (exc.field,), str(exc), str(address))
                self.unexpanded.add(address)
                continue
            written = {k: v for k, v in body.items() if k not in keyed}
            for instance_key, each in made:
                bound = None if instance_key is None else _bound(keyed, instance_key, each)
                instance = address.instance(instance_key)
                plain = written if bound is None else _keys_bound(written, bound)
                resolved = self.resolve_env_and_vars(plain, path, str(instance), bound)
                arguments = {k: v for k, v in resolved.items() if k not in meta}
                register_secrets(args_model, arguments)
                result[instance] = Block(
                    address=instance,
                    arguments=arguments,
                    depends_on=self.depends_on(resolved.get("depends_on", []), path, str(instance)),
                    lifecycle=self.lifecycle(resolved.get("lifecycle") or {}, path, str(instance), args_model),
                    location=self.positions.of(path),
                    key_path=path,
                )
                self.required_present(args_model, arguments, path, str(instance), skip=misspelt)
                for where, message in check_known_values(args_model, arguments):
                    self.error(path + where, f"{'.'.join(map(str, where))}: {message}", str(instance))
        return result

    def depends_on(self, value: Any, path: KeyPath, subject: str) -> list[Address]:
        if not isinstance(value, list):
            self.error(path + ("depends_on",), "depends_on must be a list of addresses", subject)
            return []
        addresses = []
        for index, item in enumerate(value):
            try:
                addresses.append(Address.parse(str(item)))
            except ValueError as exc:
                self.error(path + ("depends_on", index), str(exc), subject)
        return addresses

    def lifecycle(self, value: Any, path: KeyPath, subject: str, args_model: type[Arguments]) -> Lifecycle:
        try:
            lifecycle = Lifecycle.model_validate(value)
        except ValidationError as exc:
            for error in exc.errors():
                self.error(
                    path + ("lifecycle", *error["loc"]),
                    f"lifecycle.{'.'.join(map(str, error['loc']))}: {plain_message(error)}",
                    subject,
                )
            return Lifecycle()
        for index, name in enumerate(lifecycle.ignore_changes):
            if name not in args_model.model_fields:
                self.error(
                    path + ("lifecycle", "ignore_changes", index),
                    f"ignore_changes names unknown argument '{name}'{suggestion(name, args_model.model_fields)}",
                    subject,
                )
        return lifecycle

    def required_present(
        self, model: type[Arguments], arguments: dict[str, Any], path: KeyPath, subject: str, skip: set[str]
    ) -> None:
        """Missing required fields, except one already reported as misspelt."""
        for name, info in model.model_fields.items():
            if info.is_required() and name not in arguments and name not in skip:
                self.error(path, f"missing required field '{name}'", subject)

    def check_references(self, resources: dict[Address, Block], data: dict[Address, Block]) -> None:
        for block in [*resources.values(), *data.values()]:
            for ref_path, value in _walk(block.arguments, block.key_path):
                for ref in _safe_refs(value):
                    self.check_reference(ref, ref_path, str(block.address), resources, data)
            for index, target in enumerate(block.depends_on):
                if target not in resources and target not in data and target not in self.declared:
                    self.error(
                        block.key_path + ("depends_on", index),
                        f"depends_on names '{target}', which is not in the plan",
                        str(block.address),
                    )

    def check_reference(
        self, ref: Reference, path: KeyPath, subject: str, resources: Iterable[Address], data: Iterable[Address]
    ) -> None:
        if ref.kind not in ("resource", "data") or ref.address is None:
            return
        blocks = data if ref.kind == "data" else resources
        if ref.address not in self.declared:
            candidates = [str(a) for a in self.declared if a.is_data == (ref.kind == "data")]
            self.error(
                path,
                f"reference to '{ref.address}', which is not in the plan{suggestion(str(ref.address), candidates)}",
                subject,
            )
            return
        if ref.address in self.unexpanded:
            return
        problem = _instance_problem(ref, self.declared[ref.address], blocks)
        if problem:
            self.error(path, problem, subject)
            return
        impl = (
            registry.data_source(ref.address.type) if ref.kind == "data" else registry.resource_type(ref.address.type)
        )
        if impl is None:  # an unknown type, reported where its block is
            return
        attributes = [*impl.Args.model_fields, *impl.computed]
        if ref.attribute[0] not in attributes:
            self.error(
                path,
                f"'{ref.address.type}' has no attribute '{ref.attribute[0]}'{suggestion(ref.attribute[0], attributes)}",
                subject,
            )

    def outputs(self) -> dict[str, Any]:
        return {
            name: self.resolve_env_and_vars(value, ("outputs", name), f"output {name}")
            for name, value in self.loaded.sections["outputs"].items()
        }


def _instance_problem(ref: Reference, keyed_by: str | None, blocks: Iterable[Address]) -> str | None:
    """Why a reference names no instance the plan has, or None: a block with for_each or count is read
    one instance at a time (``["key"]``, ``[0]``) or all at once (``[*]``), one without neither way."""
    block = ref.address
    assert block is not None
    if ref.splat:
        return None
    if keyed_by is None:
        return None if ref.key is None else f"'{block}' has no for_each or count: read it as {block}.ATTRIBUTE"
    if ref.key is None:
        example = f'{block}["KEY"]' if keyed_by == "for_each" else f"{block}[0]"
        return f"'{block}' has {keyed_by}: read one instance ({example}) or all of them ({block}[*])"
    if ref.target not in blocks:
        keys = sorted(str(a.key) for a in blocks if a.block == block)
        return f"'{block}' has no instance {format_key(ref.key)} (its keys: {', '.join(keys) or 'none'})"
    return None


_KEYED_BY_INSTANCE = re.compile(r"\[\s*(each\.key|each\.value(?:\.[A-Za-z_]\w*)*|count\.index)\s*\]")


def _keys_bound(value: Any, bound: dict[str, Any]) -> Any:
    """``TYPE.NAME[each.key]`` (or ``[each.value]``, ``[each.value.member]``, ``[count.index]``) with this instance's key written in,
    so the reference names one instance as literally as ``TYPE.NAME["checkout"]`` does (and its edge is one)."""
    if isinstance(value, dict):
        return {key: _keys_bound(item, bound) for key, item in value.items()}
    if isinstance(value, list):
        return [_keys_bound(item, bound) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def written(match: re.Match[str]) -> str:
        kind, name, *members = match.group(1).split(".")
        key = bound.get(kind, {}).get(name)
        for member in members:
            key = key.get(member) if isinstance(key, dict) else None
        return format_key(key) if isinstance(key, str | int) and not isinstance(key, bool) else match.group(0)

    return _KEYED_BY_INSTANCE.sub(written, value)


def _bound(keyed: dict[str, Any], key: Any, each: Any) -> dict[str, Any]:
    """What an instance's ``each.*`` or ``count.index`` read."""
    return {"count": {"index": key}} if "count" in keyed else {"each": {"key": key, "value": each}}


def _walk(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, path + (index,))
    else:
        yield path, value


def _safe_refs(value: Any) -> list[Reference]:
    try:
        return list(references_in(value))
    except ValueError:
        return []


def build_config(loaded: LoadedPlan, var_overrides: dict[str, Any] | None = None) -> PlanConfig:
    builder = _Builder(loaded, var_overrides or {})
    providers = builder.providers()
    resources = builder.blocks("resources")
    data = builder.blocks("data")
    outputs = builder.outputs()
    builder.check_references(resources, data)
    moves = parse_moves(list(loaded.sections["moved"].values()), builder.error)
    removals = parse_removals(list(loaded.sections["removed"].values()), builder.error)
    refuse_still_planned(moves, removals, set(resources), builder.error)
    for name, value in outputs.items():
        for ref in _safe_refs(value):
            builder.check_reference(ref, ("outputs", name), f"output {name}", resources, data)
    if builder.errors:
        raise builder.errors[0] if len(builder.errors) == 1 else ConfigErrors(builder.errors)
    return PlanConfig(
        root=loaded.root,
        providers=providers,
        resources=resources,
        data=data,
        outputs=outputs,
        positions=loaded.positions,
        file_hashes=loaded.file_hashes,
        variables=builder.variables,
        moves=moves,
        removals=removals,
    )


def load_config(path: Path, var_overrides: dict[str, Any] | None = None) -> PlanConfig:
    return build_config(load(path), var_overrides)
