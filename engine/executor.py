"""Carry out a plan: walk the changes in dependency order, in parallel where possible.

- A change starts when every change it depends on has finished.
- Up to ``parallelism`` changes run at once (threads: the work is HTTP).
- When a change fails, everything that depends on it is skipped; the rest
  still runs, so one broken object does not hold back unrelated ones.
- State is written after every finished change, so an interrupted apply
  loses nothing it did.
- Deletes run in reverse: a dependent goes before what it depends on.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import ValidationError

from engine import secrets
from engine.addresses import Address
from engine.changes import Action, Plan, ResourceChange
from engine.config import PlanConfig
from engine.errors import ConfigError
from engine.graph import DependencyGraph
from engine.planner import checked_arguments, protect, resource_type
from engine.references import Reference, dig, substitute
from engine.session import ProviderSession
from engine.state import ResourceState, State, StateBackend
from providers import registry
from providers.errors import (
    AppliedWithError,
    NotFoundError,
    ProviderError,
)

Reporter = Callable[[str], None]


@dataclass
class ApplyResult:
    added: int = 0
    changed: int = 0
    destroyed: int = 0
    failed: list[tuple[Address, str]] = field(default_factory=list)
    skipped: list[Address] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


class ChangeFailed(Exception):
    """A change failed; the message is what the user sees for it."""


class Executor:
    def __init__(
        self,
        plan: Plan,
        config: PlanConfig,
        graph: DependencyGraph,
        state: State,
        backend: StateBackend,
        session: ProviderSession,
        parallelism: int = 10,
        report: Reporter = lambda line: None,
    ):
        self.plan = plan
        self.config = config
        self.graph = graph
        self.state = state
        self.backend = backend
        self.session = session
        self.parallelism = max(1, parallelism)
        self.report = report
        self.result = ApplyResult()
        self._state_lock = threading.Lock()
        self._data: dict[Address, dict[str, Any]] = {}

    # --- ordering ------------------------------------------------------
    def _work_graph(self, changes: list[ResourceChange]) -> DependencyGraph:
        """Edges between the changes to run: config edges, reversed for deletes."""
        work = DependencyGraph()
        by_address = {c.address: c for c in changes}
        for change in changes:
            work.add_node(change.address)
        for change in changes:
            if change.action == Action.DELETE:
                prior = self.state.resources.get(str(change.address))
                for dep in prior.dependencies if prior else []:
                    dep_address = Address.parse(dep)
                    if dep_address in by_address and by_address[dep_address].action == Action.DELETE:
                        work.add_edge(change.address, dep_address)
                continue
            if change.address in self.graph.nodes():
                for dep in self.graph.ancestors(change.address):
                    if dep in by_address and by_address[dep].action != Action.DELETE:
                        work.add_edge(dep, change.address)
            prior = self.state.resources.get(str(change.address))
            for dep in prior.dependencies if prior else []:
                dep_address = Address.parse(dep)
                if dep_address in by_address and by_address[dep_address].action == Action.DELETE:
                    work.add_edge(change.address, dep_address)
        return work

    # --- walk ----------------------------------------------------------
    def run(self) -> ApplyResult:
        unchanged = self.state.to_json()
        for address in self.graph.order():
            if address.is_data and self.plan.change_for(address) is None:
                self._read_data(address)
        changes = [c for c in self.plan.changes if c.action != Action.NOOP]
        for change in self.plan.changes:
            if change.action == Action.NOOP:
                self._record_noop(change)
        work = self._work_graph(changes)
        by_address = {c.address: c for c in changes}
        remaining = {a: set(work.dependencies(a)) for a in work.nodes()}
        done: set[Address] = set()
        running: dict[Future, Address] = {}
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            while remaining or running:
                for address in sorted([a for a, deps in remaining.items() if deps <= done], key=str):
                    if len(running) >= self.parallelism:
                        break
                    del remaining[address]
                    running[pool.submit(self._apply_one, by_address[address])] = address
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    address = running.pop(future)
                    error = future.exception()
                    if error is None:
                        done.add(address)
                        continue
                    self.result.failed.append((address, secrets.redact(str(error))))
                    self.report(f"{address}: failed: {secrets.redact(str(error))}")
                    for skipped in sorted(work.descendants(address), key=str):
                        if skipped in remaining:
                            del remaining[skipped]
                            self.result.skipped.append(skipped)
                            self.report(f"{skipped}: skipped because {address} failed")
        if not self.result.failed and not self.result.skipped:
            self.result.outputs = self._outputs()
            with self._state_lock:
                self.state.outputs = self.result.outputs
                if self.state.to_json() != unchanged:  # a no-op apply leaves the serial alone
                    self.backend.write(self.state)
        return self.result

    # --- one change ----------------------------------------------------
    def lookup(self, ref: Reference) -> Any:
        if ref.kind == "data":
            values = self._data.get(ref.address, {})
        else:
            item = self.state.resources.get(str(ref.address))
            values = item.attributes if item else {}
        try:
            return dig(values, ref.attribute)
        except (KeyError, IndexError, ValueError):
            raise ChangeFailed(f"{ref.text} has no value (the object it names was not applied)") from None

    def _desired(self, address: Address) -> dict[str, Any]:
        block = self.config.resources[address]
        rtype = resource_type(address)
        args = substitute(block.arguments, self.lookup)
        try:
            validated = rtype.Args.model_validate(args).model_dump(exclude_unset=True)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            location = self.config.positions.of(block.key_path + tuple(error["loc"]))
            raise ConfigError(f"{where}: {error['msg']}", location, str(address)) from None
        for name in rtype.Args.fields_with("sensitive"):
            if validated.get(name):
                secrets.register(validated[name])
        return checked_arguments(self.config, block, validated)

    def _apply_one(self, change: ResourceChange) -> None:
        address = change.address
        started = time.monotonic()
        verb = {
            Action.CREATE: ("Creating", "Creation"),
            Action.UPDATE: ("Modifying", "Modifications"),
            Action.DELETE: ("Destroying", "Destruction"),
            Action.DELETE_THEN_CREATE: ("Replacing", "Replacement"),
            Action.CREATE_THEN_DELETE: ("Replacing", "Replacement"),
            Action.READ: ("Reading", "Read"),
        }[change.action]
        self.report(f"{address}: {verb[0]}...")
        try:
            remote_id = self._dispatch(change)
        except AppliedWithError as exc:
            # The object exists (a run that missed its gate): record it, then fail.
            self._remember(address, self._desired(address), exc.attrs)
            raise ChangeFailed(str(exc)) from None
        except (ProviderError, ConfigError, ChangeFailed) as exc:
            raise ChangeFailed(str(exc)) from None
        elapsed = time.monotonic() - started
        suffix = f" [id={remote_id}]" if remote_id else ""
        self.report(f"{address}: {verb[1]} complete after {elapsed:.0f}s{suffix}")

    def _dispatch(self, change: ResourceChange) -> str | None:
        address = change.address
        if change.action == Action.READ:
            self._read_data(address)
            return None
        rtype = resource_type(address)
        ctx = self.session.context(address.provider)
        prior = self.state.resources.get(str(address))
        if change.action == Action.DELETE:
            self._delete(rtype, ctx, prior)
            self._forget(address)
            self.result.destroyed += 1
            return None
        desired = self._desired(address)
        if change.action == Action.UPDATE:
            # Compare against what refresh saw, not the last state: drift must be repaired too.
            actual = {**prior.attributes, **(change.before or {})}
            attrs = rtype.update(ctx, prior.id, desired, actual)
            self._remember(address, desired, attrs)
            self.result.changed += 1
            return str(attrs["id"])
        if change.action == Action.DELETE_THEN_CREATE and prior:
            self._delete(rtype, ctx, prior)
            self._forget(address)
        attrs = rtype.create(ctx, desired)
        self._remember(address, desired, attrs)
        if change.action == Action.CREATE_THEN_DELETE and prior:
            self._delete(rtype, ctx, prior)
        self.result.added += 1
        if change.action.is_replace:
            self.result.destroyed += 1
        return str(attrs["id"])

    @staticmethod
    def _delete(rtype, ctx, prior: ResourceState | None) -> None:
        if prior is None:
            return
        try:
            rtype.delete(ctx, prior.id, prior.attributes)
        except NotFoundError:
            pass  # already gone: the goal of a delete is reached

    def _read_data(self, address: Address) -> None:
        block = self.config.data[address]
        source = registry.data_sources()[address.type]
        args = substitute(block.arguments, self.lookup)
        validated = source.Args.model_validate(args).model_dump(exclude_unset=True)
        self._data[address] = {**args, **source.read(self.session.context(address.provider), validated)}

    # --- state ---------------------------------------------------------
    def _dependencies(self, address: Address) -> list[str]:
        return sorted(str(a) for a in self.graph.dependencies(address) if not a.is_data)

    def _remember(self, address: Address, desired: dict[str, Any], attrs: dict[str, Any]) -> None:
        rtype = resource_type(address)
        stored = protect(rtype, {**desired, **attrs})
        with self._state_lock:
            self.state.resources[str(address)] = ResourceState(
                type=address.type, id=str(attrs["id"]), attributes=stored, dependencies=self._dependencies(address)
            )
            self.backend.write(self.state)

    def _record_noop(self, change: ResourceChange) -> None:
        """A no-op still takes the refreshed attributes, so state follows accepted drift."""
        prior = self.state.resources.get(str(change.address))
        if prior is None or change.before is None:
            return
        prior.attributes = dict(change.before)
        if change.address in self.graph.nodes():
            prior.dependencies = self._dependencies(change.address)

    def _forget(self, address: Address) -> None:
        with self._state_lock:
            self.state.resources.pop(str(address), None)
            self.backend.write(self.state)

    def _outputs(self) -> dict[str, Any]:
        outputs = {}
        for name, value in self.config.outputs.items():
            try:
                outputs[name] = substitute(value, self.lookup)
            except ChangeFailed:
                outputs[name] = None
        return outputs
