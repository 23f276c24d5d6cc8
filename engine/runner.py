"""The commands as plain functions returning result objects (no click inside).

The CLI parses flags and prints; tests can drive these directly. A
``Workspace`` names the plan, the state and whether to use the sandbox; each
command opens what it needs and closes it again.

    ws = Workspace(Path("plans/bitbar-quickstart"), sandbox=True)
    result = plan(ws, PlanOptions())
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from labform.engine.addresses import Address
from labform.engine.arguments import desired_arguments, resource_type, sensitive_keys
from labform.engine.changes import Plan, ResourceChange
from labform.engine.config import PlanConfig, build_config, suggestion
from labform.engine.errors import ConfigError, ConfigErrors, LabformError, PlanRefusedError, StateError
from labform.engine.events import Event, Reporter, ignore
from labform.engine.graph import DependencyGraph, build_graph
from labform.engine.history.run_shards import Durations
from labform.engine.loader import LoadedPlan, load
from labform.engine.options import DEFAULT_PARALLELISM, PlanOptions
from labform.engine.outcomes import ApplyOutcome, RunOutcome, change_outcomes, judged_checks
from labform.engine.planpaths import folder_files
from labform.engine.references import UNKNOWN
from labform.engine.state import ResourceState, State, StateBackend, open_backend
from labform.providers import masking
from labform.providers.errors import NotFoundError

if TYPE_CHECKING:
    from labform.engine.executor import ApplyResult
    from labform.engine.planformat import SavedPlan
    from labform.engine.sandbox import Sandbox
    from labform.engine.session import ProviderSession

# What only planning and applying use, loaded then: validate pays for none of it.

STATE_FILE = "labform.state.json"


@dataclass
class Workspace:
    path: Path = Path(".")
    state: str | None = None
    sandbox: bool = False
    # The emulators' knobs given beside --sandbox (labform.engine.sandbox.start_sandbox's ``tuning``).
    sandbox_tuning: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    report: Reporter = ignore
    lock_timeout: float = 0.0  # seconds to wait for a state lock another process holds

    def state_location(self) -> str:
        """--state, else beside the plan: a folder's labform.state.json, or <file>.state.json
        for a single-file plan, so several plans in one folder never share (and destroy) state."""
        if self.state:
            return self.state
        if self.path.is_file():
            return str(self.path.with_name(self.path.stem + ".state.json"))
        return str(self.path / STATE_FILE)

    def backend(self) -> StateBackend:
        return open_backend(self.state_location(), self.path)

    def config(self) -> PlanConfig:
        try:
            loaded = load(self.path)
        except ConfigError as exc:
            raise _naming_plan_folders(exc, self.path) from None
        _refuse_undeclared(loaded, self.variables)
        return build_config(loaded, self.variables)

    @contextmanager
    def providers(self, config: PlanConfig, parallelism: int = DEFAULT_PARALLELISM) -> Iterator[ProviderSession]:
        """Configured providers, reading up to ``parallelism`` at once; with the sandbox, pointed at local emulators."""
        from labform.engine.session import ProviderSession

        overrides: dict[str, dict[str, Any]] = {}
        with _maybe_sandbox(self, config) as served:
            if served:
                overrides = served.settings()
            session = ProviderSession(
                config, overrides, lambda message: self.report(Event("progress", message)), parallelism
            )
            try:
                yield session
            finally:
                session.close()


@contextmanager
def _maybe_sandbox(ws: Workspace, config: PlanConfig) -> Iterator[Sandbox | None]:
    from labform.engine import sandbox

    if not ws.sandbox:
        yield None
        return
    location = ws.state_location()
    data_dir = None if "://" in location else sandbox.sandbox_dir(Path(location))
    # Objects only in state (to be destroyed) need their cloud's emulator too.
    in_state = {Address.parse(key).provider for key in ws.backend().read().resources}
    with sandbox.start_sandbox(config.providers_used() | in_state, data_dir, tuning=ws.sandbox_tuning) as served:
        yield served


@dataclass
class PlanResult:
    plan: Plan
    drift: list[ResourceChange]
    # What Terraform's JSON plan also carries (configuration, prior state); None for a saved plan.
    config: PlanConfig | None = None
    state: State | None = None

    def text(self, color: bool = False) -> str:
        from labform.engine import render

        return render.render_plan(self.plan, self.drift, color)

    def json(self) -> str:
        from labform.engine import render

        return render.plan_json(self.plan, self.drift, self.config, self.state)


def validate(ws: Workspace) -> PlanConfig:
    """Every mistake plan would refuse without asking a cloud (no provider is configured here)."""
    config = ws.config()
    build_graph(config)
    _check_endpoints(config)
    _check_resources_locally(config)
    _check_shards(config, Durations.of_state(ws.state_location(), ws.path))
    from labform.engine.encryption.configured import encryption_config

    encryption_config(ws.path)  # the encryption: block as plan checks it (no key is read here)
    return config


def _check_resources_locally(config: PlanConfig) -> None:
    """Each resource's arguments as plan makes them, with every reference still unknown: the
    values known so far, the type's cross-field rules (``check``) and its local inputs
    (``plan_attributes``: a file that is missing, unreadable or of a kind the cloud refuses; its
    content is not read)."""
    from labform.providers.transfer import files_checked_only

    errors = []
    with files_checked_only():
        for block in config.resources.values():
            try:
                desired_arguments(block, lambda reference: UNKNOWN)
            except ConfigError as error:
                errors.append(error)
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)


def _check_shards(config: PlanConfig, durations: Durations) -> None:
    """Each run asking for shards can have them: with nothing recorded for its units, only
    shard_time can guess (history is read only when a block shards)."""
    from labform.engine.history import run_shards
    from labform.providers.runs import shard_field

    for block in config.resources.values():
        field = shard_field(block.arguments)
        if field is None:
            continue
        desired = desired_arguments(block, lambda reference: UNKNOWN)
        problem = run_shards.check(resource_type(block.address), desired, durations, block.address.provider)
        if problem:
            raise ConfigError(problem, block.positions.of(block.key_path + (field,)), str(block.address))


def _check_endpoints(config: PlanConfig) -> None:
    """Every provider's ``endpoint`` is an http(s) URL with a host: a typo like ``htp:/oops``
    is caught here rather than by a request that can only fail."""
    errors = []
    for name, settings in config.providers.items():
        endpoint = settings.get("endpoint")
        if not isinstance(endpoint, str):
            continue
        parts = urlsplit(endpoint)
        problem = (
            f"endpoint '{endpoint}' must start with http:// or https://"
            if parts.scheme not in ("http", "https")
            else f"endpoint '{endpoint}' has no host name (write it as {parts.scheme}://host/...)"
            if not parts.hostname
            else None
        )
        if problem:
            errors.append(
                ConfigError(problem, config.positions.of(("providers", name, "endpoint")), f"provider {name}")
            )
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)


def _refuse_undeclared(loaded: LoadedPlan, variables: dict[str, Any]) -> None:
    """A --var / -var-file value for a variable the plan does not declare is a mistake (a typo,
    or the wrong plan), as in Terraform: say so instead of ignoring it."""
    declared = loaded.sections["variables"]
    errors = [
        ConfigError(
            f"variable '{name}' is set (--var or -var-file) but the plan declares no such variable under 'variables:'{suggestion(name, declared)}"
        )
        for name in sorted(set(variables) - set(declared))
    ]
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)


PLAN_KEYS = re.compile(r"^(providers|resources|data):", re.MULTILINE)
SKIPPED_DIRS = {"node_modules", "__pycache__", "venv", "build", "dist"}


def plan_folders(root: Path, depth: int = 3) -> list[Path]:
    """Folders below ``root`` holding plan files (a *.yaml with providers:, resources: or data:),
    so a command run in the wrong folder can name the ones it could mean."""
    found = []
    for folder in sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in SKIPPED_DIRS
    ):
        if any(PLAN_KEYS.search(f.read_text(errors="replace")[:100_000]) for f in folder_files(folder)):
            found.append(folder)
        elif depth > 1:
            found.extend(plan_folders(folder, depth - 1))
    return found


def _naming_plan_folders(error: ConfigError, path: Path) -> ConfigError:
    """'no *.yaml plan files in .' plus the plan folders below it, when there are some."""
    if not path.is_dir() or any(p.suffix in (".yaml", ".yml") for p in path.iterdir()):
        return error
    folders = [str(f) for f in plan_folders(path)]  # as the user would type them, from where they are
    if not folders:
        return error
    shown = ", ".join(folders[:10]) + (", ..." if len(folders) > 10 else "")
    return ConfigError(f"{error}. Each plan is a folder; name one as PATH: {shown} (e.g. labform plan {folders[0]})")


def show_saved_plan(path: Path) -> PlanResult:
    """A plan saved with plan -out, as ``labform show FILE`` prints it."""
    from labform.engine import planfile

    return PlanResult(planfile.read(path).plan, [])


def terraform_type(value: Any) -> Any:
    """A value's type in Terraform's JSON type notation (as ``output -json`` reports it)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [terraform_type(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {k: terraform_type(v) for k, v in value.items()}]
    return "dynamic"


def output_values(outputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Outputs in Terraform's ``output -json`` shape: {name: {value, type, sensitive}}."""
    from labform.engine import render

    return {
        name: {"sensitive": render._holds_secret(value), "type": terraform_type(value), "value": value}
        for name, value in sorted(outputs.items())
    }


def state_values(state: State) -> dict[str, Any]:
    """State as Terraform's ``show -json`` reports it, in the shape of the JSON plan's ``prior_state``."""
    from labform.engine import render

    resources = []
    for key, item in sorted(state.resources.items()):
        address = Address.parse(key)
        sensitive = sensitive_keys(resource_type(address), item.attributes)
        resources.append(render._resource(address, render._known(item.attributes, sensitive), sensitive))
    return {
        **render.versions(render.STATE_FORMAT_VERSION),
        "values": {"outputs": output_values(state.outputs), "root_module": {"resources": resources}},
    }


def graph_dot(ws: Workspace) -> str:
    return build_graph(ws.config()).to_dot()


def _make_plan(
    config: PlanConfig,
    graph: DependencyGraph,
    state: State,
    backend: StateBackend,
    session: ProviderSession,
    options: PlanOptions,
    durations: Durations | None = None,
) -> PlanResult:
    from labform.engine import moves, planner, recovery
    from labform.engine.state.recorder import StateRecorder

    named = [*options.targets, *options.replace]
    known = [*config.resources, *(Address.parse(key) for key in state.resources)] if named else []
    for address in named:
        if not any(address.contains(other) for other in known):
            raise ConfigError(f"'{address}' is neither in the plan nor in state")
    recovered = recovery.recover_intents(StateRecorder(state, backend), session, graph) if state.intents else []
    carried_state, carried = moves.carry(state, config.moves, config.removals)
    planning = planner.Planner(config, graph, carried_state, session, options, durations)
    plan = planning.plan()
    plan.notices[:0] = [*recovered, *carried.notices]
    plan.moved, plan.forgotten = carried.moved, carried.forgotten
    drift = [] if options.refresh_only else planning.drift()
    return PlanResult(plan, drift, config, state)


def plan(ws: Workspace, options: PlanOptions, out: Path | None = None) -> PlanResult:
    from labform.engine import planfile
    from labform.engine.planformat import SavedPlan

    config = ws.config()
    graph = build_graph(config)
    backend = ws.backend()
    with backend.locked("plan", ws.lock_timeout), ws.providers(config, options.workers()) as session:
        result = _make_plan(
            config, graph, backend.read(), backend, session, options, Durations.of_state(ws.state_location(), ws.path)
        )
    if out is not None:
        kept, secret = _variables_to_save(ws.variables)
        planfile.write(out, SavedPlan(result.plan, ws.path, kept, options.workers(), secret))
    return result


def _variables_to_save(variables: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The variables a saved plan keeps: one that carries a secret (it fed a sensitive argument or
    setting, so it is masked by now) only as a fingerprint, never in clear."""
    from labform.engine import secrets

    kept = dict(variables)
    secret = sorted(name for name, value in variables.items() if masking.redact(str(value)) != str(value))
    for name in secret:
        kept[name] = secrets.fingerprint(variables[name])
    return kept, secret


def _saved_variables(saved: SavedPlan, given: dict[str, Any], plan_file: Path) -> dict[str, Any]:
    """The saved plan's variables, each secret one as given again now (and checked against its fingerprint)."""
    from labform.engine import secrets

    variables = dict(saved.variables)
    for name in saved.secret_variables:
        if name not in given:
            raise PlanRefusedError(
                f"saved plan {plan_file} was made with the secret variable '{name}', which labform never writes "
                f"into a saved plan: give it again (--var {name}=... or --var-file)"
            )
        if not secrets.matches(given[name], str(saved.variables[name])):
            raise PlanRefusedError(
                f"the variable '{name}' given now is not the one {plan_file} was planned with: plan again"
            )
        variables[name] = given[name]
    return variables


def apply(
    ws: Workspace,
    options: PlanOptions,
    plan_file: Path | None = None,
    approve: Callable[[PlanResult], bool] | None = None,
    stop: threading.Event | None = None,
) -> ApplyOutcome:
    """Plan (or load a saved plan), refuse while a create's outcome is unknown, ask ``approve``
    unless None, then execute."""
    from labform.engine import executor, planfile, recovery

    if plan_file is not None:
        saved = planfile.read(plan_file)
        ws.path, ws.variables = saved.plan_path, _saved_variables(saved, ws.variables, plan_file)
        # A --parallelism given now wins over the one saved with the plan.
        options.parallelism = options.parallelism or saved.parallelism
    config = ws.config()
    graph = build_graph(config)
    backend = ws.backend()
    verb = "destroy" if options.destroy else "apply"
    with backend.locked(verb, ws.lock_timeout), ws.providers(config, options.workers()) as session:
        state = backend.read()
        if plan_file is not None:
            planfile.refuse_if_stale(saved.plan, state, config, plan_file)
            planned = PlanResult(saved.plan, [])
        else:
            planned = _make_plan(
                config, graph, state, backend, session, options, Durations.of_state(ws.state_location(), ws.path)
            )
        if not planned.plan.refresh_only:
            recovery.refuse_unresolved(state)  # before asking: there is nothing to approve yet
        if plan_file is None and planned.plan.has_changes and approve is not None and not approve(planned):
            return ApplyOutcome(verb, planned.plan, planned.drift, None, approved=False)
        if planned.plan.refresh_only:
            _accept_refresh(state, planned.plan, backend)
            return ApplyOutcome(verb, planned.plan, planned.drift, executor.ApplyResult())
        _carry_moves(state, planned.plan, backend)
        walk = executor.Executor(
            planned.plan, config, graph, state, backend, session, options.workers(), ws.report, stop
        )
        result = walk.run()
    outcome = _outcome(verb, planned, result, config, state)
    _add_to_history(ws, outcome, state)
    return outcome


def _add_to_history(ws: Workspace, outcome: ApplyOutcome, state: State) -> None:
    """The JUnit each run carried out now wrote, added to the workspace's test history."""
    written = []
    for run in outcome.runs:
        recorded = state.resources.get(run.outcome.address)
        junit = recorded.attributes.get("junit") if recorded and run.seconds is not None else None
        if run.facts.finished and isinstance(junit, str) and Path(junit).is_file():
            written.append((run.outcome.change.address.provider, Path(junit)))
    if written:
        from labform.engine.history.applied import record_applied_runs

        if warning := record_applied_runs(ws.state_location(), ws.path, written):
            logging.getLogger("labform.history").warning(warning)


def _outcome(verb: str, planned: PlanResult, result: ApplyResult, config: PlanConfig, state: State) -> ApplyOutcome:
    """Everything the CLI and the CI summary say of an apply, from what the apply had in hand."""
    locations = {str(block.address): block.location for block in config.blocks() if block.location}
    changes = change_outcomes(planned.plan, result, locations)
    runs = []
    for changed in changes:
        recorded = state.resources.get(changed.address)
        facts = resource_type(changed.change.address).facts(recorded.attributes) if recorded else None
        if facts is not None:
            runs.append(RunOutcome(changed, facts, result.elapsed.get(changed.change.address)))
    checks = judged_checks(planned.plan, changes, state)
    outputs = output_values(result.outputs)
    return ApplyOutcome(verb, planned.plan, planned.drift, result, True, changes, runs, outputs, checks)


def _carry_moves(state: State, plan_: Plan, backend: StateBackend) -> None:
    """What ``moved:`` and ``removed:`` planned, written into state before any change: no cloud call."""
    from labform.engine.state.recorder import StateRecorder

    if not (plan_.moved or plan_.forgotten):
        return
    recorder = StateRecorder(state, backend)
    for source, target in plan_.moved:
        recorder.move(source, target)
    for address in plan_.forgotten:
        recorder.forget(address)
    recorder.finish()


def _accept_refresh(state: State, plan_: Plan, backend: StateBackend) -> None:
    """Write what the cloud says into state, changing nothing remotely."""
    from labform.engine.state.recorder import StateRecorder

    recorder = StateRecorder(state, backend)
    for change in plan_.changes:
        if change.after is None:
            recorder.forget(change.address)
        else:
            recorder.refreshed(change.address, change.after)
    recorder.finish()


def refresh(ws: Workspace) -> PlanResult:
    outcome = apply(ws, PlanOptions(refresh_only=True))
    return PlanResult(outcome.plan, outcome.drift)


def import_resource(ws: Workspace, address: Address, remote_id: str) -> ResourceState:
    from labform.engine.state.recorder import StateRecorder

    config = ws.config()
    if address not in config.resources:
        raise ConfigError(f"'{address}' is not in the plan: add its block first, then import")
    graph = build_graph(config)
    backend = ws.backend()
    with backend.locked("import", ws.lock_timeout), ws.providers(config) as session:
        state = backend.read()
        if str(address) in state.resources:
            raise StateError(
                f"{address} is already managed (id {state.resources[str(address)].id}); 'labform state rm' it first"
            )
        rtype = resource_type(address)
        try:
            attrs = rtype.import_(session.context(address.provider), remote_id)
        except NotFoundError:
            raise LabformError(
                f"cannot import {address}: the cloud has no {address.type} with id {remote_id}"
            ) from None
        dependencies = sorted(str(a) for a in graph.dependencies(address) if not a.is_data)
        recorder = StateRecorder(state, backend)
        item = recorder.remember(address, attrs, dependencies)
        recorder.finish()
        return item


def state_resolve(ws: Workspace, address: Address, remote_id: str | None) -> ResourceState | None:
    """Say what became of a create whose outcome is unknown: with ``remote_id`` it made that object,
    which is read by its id and recorded (adopted as created); without, it made nothing, and the
    intent is forgotten so the next apply sends the create."""
    from labform.engine.state.recorder import StateRecorder

    config = ws.config()
    backend = ws.backend()
    with backend.locked("state resolve", ws.lock_timeout):
        state = backend.read()
        intent = state.intents.get(str(address))
        if intent is None:
            raise StateError(
                f"{address} has no create whose outcome is unknown"
                + (
                    f" (it is in state, id {state.resources[str(address)].id})"
                    if str(address) in state.resources
                    else ""
                )
            )
        recorder = StateRecorder(state, backend)
        if remote_id is None:
            recorder.abandon(address, "labform state resolve --not-created")
            recorder.finish()
            return None
        if address not in config.resources:
            raise ConfigError(f"'{address}' is not in the plan: add its block back first, then resolve it")
        with ws.providers(config) as session:
            found = _read_by_id(session, address, remote_id, intent["desired"])
        dependencies = sorted(str(a) for a in build_graph(config).dependencies(address) if not a.is_data)
        item = recorder.remember(address, {**intent["desired"], **found}, dependencies)
        recorder.finish()
        return item


def _read_by_id(session: ProviderSession, address: Address, remote_id: str, desired: dict[str, Any]) -> dict[str, Any]:
    """The object ``remote_id`` names, read as refresh reads it (the intent's arguments as its prior)."""
    try:
        found = resource_type(address).read(session.context(address.provider), remote_id, desired)
    except NotFoundError:
        found = None
    if found is None:
        raise LabformError(f"cannot resolve {address}: the cloud has no {address.type} with id {remote_id}")
    return found


def read_state(ws: Workspace) -> State:
    return ws.backend().read()


def state_rm(ws: Workspace, addresses: list[Address]) -> list[str]:
    from labform.engine.state.recorder import StateRecorder

    backend = ws.backend()
    with backend.locked("state rm", ws.lock_timeout):
        state = backend.read()
        missing = [str(a) for a in addresses if str(a) not in state.resources]
        if missing:
            raise StateError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in state")
        recorder = StateRecorder(state, backend)
        for address in addresses:
            recorder.forget(address)
        recorder.finish()
        return [str(a) for a in addresses]


def state_mv(ws: Workspace, source: Address, target: Address) -> None:
    from labform.engine.state.recorder import StateRecorder

    backend = ws.backend()
    with backend.locked("state mv", ws.lock_timeout):
        recorder = StateRecorder(backend.read(), backend)
        recorder.move(source, target)
        recorder.finish()


def force_unlock(ws: Workspace) -> dict[str, Any] | None:
    return ws.backend().force_unlock()
