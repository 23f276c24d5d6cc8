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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from labform.engine.addresses import Address, format_key, module_prefix
from labform.engine.arguments import check_known_values, plain_message, register_secrets
from labform.engine.errors import ConfigError, ConfigErrors, SourceLocation
from labform.engine.instances import InstanceError, instances
from labform.engine.loader import KeyPath, LoadedPlan, Positions, load
from labform.engine.modules import MODULE_KEYS, ROOT_ONLY, ModuleSources, plan_folder, relative_path, source_folder
from labform.engine.moves import Move, Removal, parse_moves, parse_removals, refuse_still_planned
from labform.engine.references import Reference, references_in, substitute
from labform.engine.scopes import Scope
from labform.engine.variables import Declared, declared, variable_values
from labform.providers import registry
from labform.providers.base import Arguments

RESOURCE_META = ("depends_on", "lifecycle", "for_each", "count")
DATA_META = ("depends_on", "for_each", "count")
# What is known before any object is read: substituted while the plan is built.
IN_INSTANCE = frozenset({"env", "var", "local", "each", "count", "path"})


class Lifecycle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prevent_destroy: bool = False
    ignore_changes: list[str] = []
    create_before_destroy: bool = False


@dataclass
class Block:
    """One resource or data source as written, env and var already substituted. ``positions`` are
    its own file's (a module's blocks point into the module's files); ``scope`` reads its names."""

    address: Address
    arguments: dict[str, Any]
    depends_on: list[Address]
    lifecycle: Lifecycle
    location: SourceLocation | None
    key_path: KeyPath
    positions: Positions
    scope: Scope

    def references(self) -> list[Reference]:
        """The objects the block reads, by whole address (through module inputs and outputs too)."""
        return list({(ref.text, ref.address): ref for ref in self.scope.reads(self.arguments)}.values())


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
    scope: Scope = field(default_factory=Scope)  # the root's: outputs read module outputs through it

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


VariableReport = Callable[[str, str], None]


class _Builder:
    """Collects errors while turning a LoadedPlan (the root plan's, or one module instance's) into blocks.

    ``calls`` are the folders of the plan and of the modules calling this one, outermost first (the
    last is this one's): module sources are read from it, and a source already in it is a loop."""

    def __init__(
        self,
        loaded: LoadedPlan,
        given: dict[str, Any],
        scope: Scope,
        sources: ModuleSources,
        calls: tuple[Path, ...],
        errors: list[ConfigError],
        giving: str = "--var NAME=VALUE or a -var-file",
        report_variable: VariableReport | None = None,
    ):
        self.loaded = loaded
        self.positions = loaded.positions
        self.errors = errors
        self.scope, self.sources, self.calls = scope, sources, calls
        self.variables = variable_values(
            {name: entry for name, entry in loaded.sections["variables"].items() if name not in scope.late_inputs},
            given,
            report_variable or (lambda name, message: self.error(("variables", name), message)),
            giving,
        )
        self.locals: dict[str, Any] = {}
        self.resolving: list[str] = []  # the locals being worked out, innermost last (a cycle's path)
        # Each block written here (its whole address without a key): "for_each", "count", or None for neither.
        self.declared: dict[Address, str | None] = scope.declared  # kept by the scope: orphans.py reads it
        self.unexpanded: set[Address] = set()  # blocks whose instances could not be known: read no further
        # Each module called here: how it is keyed ("for_each", "count" or None) and its outputs' names.
        self.module_calls: dict[str, tuple[str | None, set[str]]] = scope.module_calls
        self.unexpanded_modules: set[str] = set()
        # Every block built here and in the modules called, by whole address.
        self.resource_blocks: dict[Address, Block] = {}
        self.data_blocks: dict[Address, Block] = {}
        self.outputs: dict[str, Any] = {}

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
            if ref.kind == "path":
                return relative_path(self.calls[-1] if ref.name == "module" else self.calls[0])
            if ref.kind in ("each", "count"):
                if instance is None or ref.kind not in instance:
                    where = "for_each" if ref.kind == "each" else "count"
                    self.error(path, f"${{{ref.text}}} is set only in a block with {where}", subject)
                    return unresolved(ref)
                return instance[ref.kind][ref.name]
            if ref.name in self.scope.late_inputs:  # an input only apply knows: read while planning (engine/scopes.py)
                return unresolved(ref)
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
            return substitute(value, lookup, kinds=IN_INSTANCE, base=self.scope.folder)
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

    def expand(self, keyed: dict[str, Any], path: KeyPath, subject: str) -> list[tuple[Any, Any]] | None:
        """The instances ``for_each``/``count`` make (one for neither); None, reported, when they cannot be known."""
        reported = len(self.errors)
        try:
            return instances(self.resolve_env_and_vars(keyed, path, subject))
        except InstanceError as exc:
            if len(self.errors) == reported:  # not a mistake reported already (an unknown variable)
                self.error(path + (exc.field,), str(exc), subject)
            return None

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
            address = Address(bare.type, bare.name, is_data, module=self.scope.path)
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
            made = self.expand(keyed, path, str(address))
            if made is None:
                self.unexpanded.add(address)
                continue
            written = {k: v for k, v in body.items() if k not in keyed}
            for instance_key, each in made:
                bound = None if instance_key is None else _bound(keyed, instance_key, each)
                instance = address.instance(instance_key)
                plain = written if bound is None else _keys_bound(written, bound)
                resolved = self.resolve_env_and_vars(plain, path, str(instance), bound)
                arguments = {k: v for k, v in resolved.items() if k not in meta}
                if self.scope.path:
                    arguments.update(self.module_files(args_model, written))
                register_secrets(args_model, arguments)
                result[instance] = Block(
                    address=instance,
                    arguments=arguments,
                    depends_on=self.depends_on(resolved.get("depends_on", []), path, str(instance)),
                    lifecycle=self.lifecycle(resolved.get("lifecycle") or {}, path, str(instance), args_model),
                    location=self.positions.of(path),
                    key_path=path,
                    positions=self.positions,
                    scope=self.scope,
                )
                self.required_present(args_model, arguments, path, str(instance), skip=misspelt)
                for where, message in check_known_values(args_model, arguments):
                    self.error(path + where, f"{'.'.join(map(str, where))}: {message}", str(instance))
        return result

    def module_files(self, model: type[Arguments], written: dict[str, Any]) -> dict[str, str]:
        """A module's local file paths written relative, as paths from the working directory: a
        module's files sit beside it wherever it is called from. A path built by an expression
        (``${var.app}``, ``${path.root}/...``) is used as it is given."""
        folder = relative_path(self.calls[-1])
        return {
            name: os.path.join(folder, value)
            for name in model.fields_with("local_file")
            if isinstance(value := written.get(name), str) and "${" not in value and not os.path.isabs(value)
        }

    def depends_on(self, value: Any, path: KeyPath, subject: str) -> list[Address]:
        if not isinstance(value, list):
            self.error(path + ("depends_on",), "depends_on must be a list of addresses", subject)
            return []
        addresses = []
        for index, item in enumerate(value):
            try:
                addresses.append(Address.parse(str(item)).within(self.scope.path))
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

    def check_references(self, blocks: list[Block]) -> None:
        """The references of ``blocks`` (those written here), each to something the plan has."""
        resources, data = self.resource_blocks, self.data_blocks
        for block in blocks:
            for ref_path, value in _walk(block.arguments, block.key_path):
                for ref in {ref.text: ref for ref in _safe_refs(value)}.values():  # a name read twice: checked once
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
        if ref.kind == "module":
            self.check_module_reference(ref, path, subject)
            return
        if ref.kind not in ("resource", "data") or ref.address is None:
            return
        ref = self.scope.absolute(ref)
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

    def check_module_reference(self, ref: Reference, path: KeyPath, subject: str) -> None:
        """``module.NAME.OUTPUT``: a module called here, read by one instance when it has for_each or count."""
        name, output = ref.name, ref.attribute[0]
        if name not in self.loaded.sections["modules"]:
            self.error(
                path,
                f"reference to module '{name}', which is not in the plan{suggestion(name, self.module_calls)}",
                subject,
            )
            return
        if name not in self.module_calls or name in self.unexpanded_modules:
            return  # its call is wrong, and said so where it is written
        keyed_by, outputs = self.module_calls[name]
        if keyed_by is None and ref.key is not None:
            self.error(path, f"module '{name}' has no for_each or count: read it as module.{name}.{output}", subject)
        elif keyed_by is not None and ref.key is None:
            example = '["KEY"]' if keyed_by == "for_each" else "[0]"
            self.error(
                path, f"module '{name}' has {keyed_by}: read one instance (module.{name}{example}.{output})", subject
            )
        elif keyed_by is not None and (name, ref.key) not in self.scope.children:
            keys = sorted(str(key) for called, key in self.scope.children if called == name)
            self.error(
                path,
                f"module '{name}' has no instance {format_key(ref.key)} (its keys: {', '.join(keys) or 'none'})",
                subject,
            )
        elif output not in outputs:
            self.error(path, f"module '{name}' has no output '{output}'{suggestion(output, outputs)}", subject)

    def build_outputs(self) -> None:
        self.outputs = {
            name: self.resolve_env_and_vars(value, ("outputs", name), f"output {name}")
            for name, value in self.loaded.sections["outputs"].items()
        }
        self.scope.outputs = self.outputs

    def build(self) -> None:
        """Blocks, the modules they call (built as far down as they go), outputs; then every reference checked."""
        own = [*self.blocks("resources").values(), *self.blocks("data").values()]
        for block in own:
            (self.data_blocks if block.address.is_data else self.resource_blocks)[block.address] = block
        self.modules()
        self.build_outputs()
        self.check_references(own)
        for name, value in self.outputs.items():
            for ref in _safe_refs(value):
                self.check_reference(ref, ("outputs", name), f"output {name}", self.resource_blocks, self.data_blocks)

    def modules(self) -> None:
        for name, body in self.loaded.sections["modules"].items():
            path, subject = ("modules", name), f"{module_prefix(self.scope.path)}module.{name}"
            if not isinstance(body, dict):
                self.error(path, "must be a mapping: {source: ./modules/NAME, inputs: {...}}", subject)
                continue
            for key in body:
                if key not in MODULE_KEYS:
                    self.error(path + (key,), f"unknown field '{key}'{suggestion(key, MODULE_KEYS)}", subject)
            try:
                folder = source_folder(self.calls[-1], body.get("source"), self.calls)
                loaded = self.sources.load(folder)
            except ValueError as exc:
                self.error(path + ("source",), str(exc), subject)
                continue
            except (ConfigError, ConfigErrors) as exc:  # a module's file is wrong: said at its own line
                self.errors.extend(exc.errors if isinstance(exc, ConfigErrors) else [exc])
                continue
            for section, why in ROOT_ONLY.items():
                if loaded.sections[section]:
                    self.errors.append(
                        ConfigError(f"a module has no '{section}:' section: {why}", loaded.positions.of((section,)))
                    )
            inputs = body.get("inputs") or {}
            if not isinstance(inputs, dict):
                self.error(path + ("inputs",), "inputs must be a mapping of the module's variables", subject)
                continue
            accepted = loaded.sections["variables"]
            for key in inputs:
                if key not in accepted:
                    self.error(
                        path + ("inputs", key),
                        f"module '{name}' ({body['source']}) has no variable '{key}'{suggestion(key, accepted)}:"
                        " declare it under variables: in the module, or remove this input",
                        subject,
                    )
            keyed = {k: body[k] for k in ("for_each", "count") if k in body}
            self.module_calls[name] = (next(iter(keyed), None), set(loaded.sections["outputs"]))
            made = self.expand(keyed, path, subject)
            if made is None:
                self.unexpanded_modules.add(name)
                continue
            for key, each in made:
                bound = None if key is None else _bound(keyed, key, each)
                written = {k: v for k, v in inputs.items() if k in accepted}
                given = self.resolve_env_and_vars(
                    written if bound is None else _keys_bound(written, bound), path + ("inputs",), subject, bound
                )
                self.call(name, key, folder, loaded, given)

    def call(self, name: str, key: Any, folder: Path, loaded: LoadedPlan, given: dict[str, Any]) -> None:
        """Build one instance of a module, in a scope of its own, and take in its blocks."""
        late = {k: v for k, v in given.items() if _reads_objects(v)}
        readable = {k: _readable(loaded.sections["variables"][k]) for k in late}
        types = {k: declaration.type for k, declaration in readable.items() if declaration is not None}
        sensitive = frozenset(k for k, declaration in readable.items() if declaration and declaration.sensitive)
        scope = Scope(self.scope.path + ((name, key),), folder, self.scope, late, types, sensitive)
        self.scope.children[(name, key)] = scope
        where = ("modules", name)

        def report(variable: str, message: str) -> None:
            if variable in given:
                self.error(where + ("inputs", variable), message, module_prefix(scope.path)[:-1])
            elif (declaration := _readable(loaded.sections["variables"][variable])) and declaration.required:
                self.error(where, message, module_prefix(scope.path)[:-1])
            else:  # the declaration itself is wrong: said in the module's file
                self.errors.append(ConfigError(message, loaded.positions.of(("variables", variable))))

        child = _Builder(
            loaded,
            {k: v for k, v in given.items() if k not in late},
            scope,
            self.sources,
            (*self.calls, folder),
            self.errors,
            giving=f"inputs: {{NAME: ...}} in module '{name}'",
            report_variable=report,
        )
        child.build()
        self.resource_blocks.update(child.resource_blocks)
        self.data_blocks.update(child.data_blocks)


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


_MODULE_INSTANCE = re.compile(r"(module\.[A-Za-z_][A-Za-z0-9_-]*)\[[^\]]*\]")


def _once_per_call(error: ConfigError) -> tuple[Any, ...]:
    """What makes an error the same one: a mistake in a module's file, met by each instance of the call,
    is reported once (its subject named without the instance keys)."""
    subject = _MODULE_INSTANCE.sub(r"\1[*]", error.subject) if error.subject else error.subject
    return (error.location, error.message, subject)


def _reads_objects(value: Any) -> bool:
    """Whether a module input, as the caller resolved it, still reads something only apply knows."""
    return any(True for _ in _safe_refs(value))


def _readable(entry: Any) -> Declared | None:
    """A module variable's declaration, or None for one that does not read (its module's builder says why)."""
    try:
        return declared(entry)
    except ValueError:
        return None


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
    errors: list[ConfigError] = []
    sources = ModuleSources()
    builder = _Builder(loaded, var_overrides or {}, Scope(), sources, (plan_folder(loaded.root),), errors)
    providers = builder.providers()
    builder.build()
    moves = parse_moves(list(loaded.sections["moved"].values()), builder.error)
    removals = parse_removals(list(loaded.sections["removed"].values()), builder.error)
    refuse_still_planned(moves, removals, set(builder.resource_blocks), builder.error)
    if errors:
        unique = list({_once_per_call(e): e for e in reversed(errors)}.values())[::-1]
        raise unique[0] if len(unique) == 1 else ConfigErrors(unique)
    return PlanConfig(
        root=loaded.root,
        providers=providers,
        resources=builder.resource_blocks,
        data=builder.data_blocks,
        outputs=builder.outputs,
        positions=loaded.positions,
        file_hashes={**loaded.file_hashes, **sources.file_hashes()},
        variables=builder.variables,
        moves=moves,
        removals=removals,
        scope=builder.scope,
    )


def load_config(path: Path, var_overrides: dict[str, Any] | None = None) -> PlanConfig:
    return build_config(load(path), var_overrides)
