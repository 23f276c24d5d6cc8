"""Carry out a plan: walk the changes in dependency order, in parallel where possible.

- A change starts when every change it depends on has finished.
- Up to ``parallelism`` changes run at once (threads: the work is HTTP).
- When a change fails, everything that depends on it is skipped; the rest
  still runs, so one broken object does not hold back unrelated ones.
- Every finished remote step is recorded at once (``StateRecorder``), so an
  interrupted apply loses nothing it did.
- Deletes run in reverse: a dependent goes before what it depends on.
"""

from __future__ import annotations

import contextlib
import heapq
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from labform.engine import secrets
from labform.engine.addresses import Address
from labform.engine.arguments import data_arguments, desired_arguments, diff, protect, resource_type
from labform.engine.changes import Action, Plan, ResourceChange, resolve_lines, stays_red
from labform.engine.config import PlanConfig
from labform.engine.errors import ConfigError, LabformError, StateError
from labform.engine.events import Event, Reporter, ignore
from labform.engine.graph import ApplyInputs, DependencyGraph, build_apply_graph
from labform.engine.history.run_shards import with_split
from labform.engine.options import DEFAULT_PARALLELISM
from labform.engine.recovery import CREATE_ATTEMPTS, find_created, safe_to_send_again, unresolved_failure
from labform.engine.references import Reference, contains_unknown, dig, substitute
from labform.engine.session import ProviderSession
from labform.engine.state import ResourceState, State, StateBackend
from labform.engine.state.recorder import StateRecorder
from labform.providers.base import Context, ResourceType
from labform.providers.errors import AppliedWithError, NotFoundError, ProviderError
from labform.providers.masking import redact


@dataclass
class ApplyResult:
    added: int = 0
    adopted: int = 0
    changed: int = 0
    destroyed: int = 0
    failed: list[tuple[Address, str]] = field(default_factory=list)
    skipped: list[Address] = field(default_factory=list)
    # Why each skipped change was skipped (the failed change it depends on).
    skipped_because: dict[Address, Address] = field(default_factory=dict)
    # Interrupted creates found by their natural key before planning, and adopted.
    recovered: list[Address] = field(default_factory=list)
    # Changes never started because the apply was interrupted (SIGINT/SIGTERM).
    not_started: list[Address] = field(default_factory=list)
    interrupted: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    # Seconds each change carried out (or tried) took: a run's duration in the CI summary.
    elapsed: dict[Address, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.interrupted

    def summary(self) -> dict[str, Any]:
        """What happened, as the final event of an apply (and the human summary) reports it."""
        return {
            "added": self.added,
            "adopted": self.adopted,
            "changed": self.changed,
            "destroyed": self.destroyed,
            "recovered": [str(a) for a in self.recovered],
            "failed": [{"address": str(a), "error": e} for a, e in self.failed],
            "skipped": [{"address": str(a), "because": str(self.skipped_because.get(a, ""))} for a in self.skipped],
            "not_started": [str(a) for a in self.not_started],
            "interrupted": self.interrupted,
        }


class ChangeFailed(LabformError):
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
        parallelism: int = DEFAULT_PARALLELISM,
        report: Reporter = ignore,
        stop: threading.Event | None = None,
    ):
        self.plan = plan
        self.config = config
        self.graph = graph
        self.state = state
        self.recorder = StateRecorder(state, backend)
        self.session = session
        self.parallelism = max(1, parallelism)
        self.report = report
        # Set by an interrupt: no new change starts; waits in flight stop (engine/interrupts.py).
        self.stop = stop or threading.Event()
        self._halted: str | None = None  # why the walk stopped starting changes on its own
        self.result = ApplyResult()
        self._data: dict[Address, dict[str, Any]] = {}
        self._deposed: dict[Address, tuple[Any, Any, ResourceState]] = {}

    # --- ordering ------------------------------------------------------
    def _work_graph(self, changes: list[ResourceChange]) -> DependencyGraph:
        recorded = {
            change.address: [Address.parse(dep) for dep in item.dependencies]
            for change in changes
            if (item := self.state.resources.get(str(change.address)))
        }
        return build_apply_graph(ApplyInputs({c.address: c.action for c in changes}, self.graph, recorded))

    # --- walk ----------------------------------------------------------
    def run(self) -> ApplyResult:
        unchanged = self.state.to_json()
        for address in self.graph.order():
            if address.is_data and self.plan.change_for(address) is None:
                self._read_data(address)
        changes = [c for c in self.plan.changes if c.action != Action.NOOP]
        for change in self.plan.changes:
            if change.action == Action.NOOP and change.before is not None:
                self.recorder.refreshed(
                    change.address,
                    change.before,
                    self._dependencies(change.address) if change.address in self.graph else None,
                )
        work = self._work_graph(changes)
        self._walk(work, {c.address: c for c in changes})
        if self._halted is None:  # with state unwritable, no old object is deleted unrecorded
            self._delete_deposed(work)
        if self.stop.is_set() or self._halted:
            self.result.interrupted = self._halted or getattr(self.stop, "reason", None) or "interrupted"
        if not self.result.failed and not self.result.skipped:
            self.result.outputs = self._outputs()
        self.recorder.finish(self.result.outputs if self.result.ok else None, since=unchanged)
        return self.result

    def _walk(self, work: DependencyGraph, by_address: dict[Address, ResourceChange]) -> None:
        """Start each change once all it waits for are done; skip what depends on a failure.
        Ready changes wait in a heap by address (a stable order at O(log n) each, whatever the plan's size)."""
        waiting = {address: len(work.dependencies(address)) for address in by_address}
        ready = [(str(a), a) for a, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        running: dict[Future[None], Address] = {}
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            while ready or running:
                if (self.stop.is_set() or self._halted) and waiting.keys() - set(running.values()):
                    self._stop_starting(waiting, running)
                    ready.clear()
                if not (ready or running):
                    break
                while ready and len(running) < self.parallelism:
                    _, address = heapq.heappop(ready)
                    running[pool.submit(self._apply_one, by_address[address])] = address
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    address = running.pop(future)
                    error = future.exception()
                    if error is not None:
                        self._skip_dependents(address, error, work, waiting)
                        if isinstance(error, StateError):  # nothing more could be recorded: start nothing else
                            self._halted = "state could not be written"
                        continue
                    for dependent in work.dependents(address):
                        if dependent in waiting:
                            waiting[dependent] -= 1
                            if waiting[dependent] == 0:
                                heapq.heappush(ready, (str(dependent), dependent))
                    waiting.pop(address, None)

    def _stop_starting(self, waiting: dict[Address, int], running: dict[Future[None], Address]) -> None:
        """Interrupted: what has not started never will; what runs is let finish."""
        in_flight = set(running.values())
        for address in sorted(waiting.keys() - in_flight, key=str):
            del waiting[address]
            self.result.not_started.append(address)

    def _skip_dependents(
        self, address: Address, error: BaseException, work: DependencyGraph, waiting: dict[Address, int]
    ) -> None:
        message = redact(str(error))
        self.result.failed.append((address, message))
        self.report(Event("change_failed", f"{address}: failed: {message}", str(address), {"error": message}))
        waiting.pop(address, None)
        for skipped in sorted(work.descendants(address), key=str):
            if waiting.pop(skipped, None) is not None:
                self.result.skipped.append(skipped)
                self.result.skipped_because[skipped] = address
                self.report(
                    Event(
                        "change_skipped",
                        f"{skipped}: skipped because {address} failed",
                        str(skipped),
                        {"because": str(address)},
                    )
                )

    def _delete_deposed(self, work: DependencyGraph) -> None:
        """Old objects of create-before-destroy replacements, dependents first; kept when a dependent did not move."""
        stuck = {address for address, _ in self.result.failed} | set(self.result.skipped)
        for address in reversed(work.order()):
            if address not in self._deposed:
                continue
            rtype, ctx, prior = self._deposed.pop(address)
            if work.descendants(address) & stuck:
                self.report(
                    Event(
                        "progress",
                        f"{address}: old object {prior.id} kept, because a dependent was not moved to the new one",
                        str(address),
                    )
                )
                continue
            try:
                self._delete(rtype, ctx, prior)
            except ProviderError as exc:
                self.result.failed.append((address, redact(f"deleting the old object {prior.id}: {exc}")))

    # --- one change ----------------------------------------------------
    def lookup(self, ref: Reference) -> Any:
        if ref.splat:  # every instance's object as applied: the expression picks its attribute
            objects = [self._applied(ref.kind, address) for address in self.config.instances_of(ref.target)]
            if not all(objects):  # one destroyed or never applied: no value, as for a single reference
                raise ChangeFailed(f"{ref.text} has no value (an instance it reads was not applied)")
            return objects
        values = self._applied(ref.kind, ref.target)
        try:
            return dig(values, ref.attribute)
        except (KeyError, IndexError, ValueError):
            raise ChangeFailed(f"{ref.text} has no value (the object it names was not applied)") from None

    def _applied(self, kind: str, address: Address) -> dict[str, Any]:
        if kind == "data":
            return self._data.get(address, {})
        item = self.state.resources.get(str(address))
        return item.attributes if item else {}

    def _desired(self, address: Address, change: ResourceChange | None = None) -> dict[str, Any]:
        """The block's arguments now, with the shards its plan split for the run (started as the
        plan showed them, kept in state, and what a start cut off resumes)."""
        desired = desired_arguments(self.config.resources[address], self.lookup)
        return with_split(desired, change.after if change is not None else None)

    def _apply_one(self, change: ResourceChange) -> None:
        address = change.address
        started = time.monotonic()
        words = change.action.words
        self.report(
            Event("change_started", f"{address}: {words.doing}...", str(address), {"action": change.action.value})
        )
        try:
            remote_id = self._dispatch(change)
        except AppliedWithError as exc:
            self.result.elapsed[address] = time.monotonic() - started
            # The object exists (a run that missed its gate): record it, then fail.
            self._remember(address, {**self._desired(address, change), **exc.attrs}, tainted=exc.tainted)
            hint = f"; {stays_red(address, resource_type(address).ephemeral)}" if exc.operation == "gate" else ""
            raise ChangeFailed(f"{exc}{hint}") from None
        except (ProviderError, ConfigError, ChangeFailed) as exc:
            raise ChangeFailed(str(exc)) from None
        elapsed = self.result.elapsed[address] = time.monotonic() - started
        suffix = f" [id={remote_id}]" if remote_id else ""
        self.report(
            Event(
                "change_finished",
                f"{address}: {words.done} complete after {elapsed:.0f}s{suffix}",
                str(address),
                {"action": change.action.value, "id": remote_id, "elapsed_seconds": round(elapsed, 3)},
            )
        )

    def _dispatch(self, change: ResourceChange) -> str | None:
        address = change.address
        if change.action == Action.READ:
            self._read_data(address)
            return None
        rtype = resource_type(address)
        ctx = replace(
            self.session.context(address.provider),
            progress=lambda message: self.report(Event("progress", message, str(address))),
            stop=self.stop,
        )
        prior = self.recorder.get(address)
        if change.action == Action.DELETE:
            self._delete(rtype, ctx, prior)
            self.recorder.forget(address)
            self.result.destroyed += 1
            return None
        desired = self._desired(address, change)
        if change.action == Action.ADOPT:
            found = rtype.read(ctx, change.remote_id, desired) if change.remote_id else None
            if found is not None:
                self._remember(address, {**desired, **found}, adopted=True)
                self.result.adopted += 1
                return str(found["id"])
            # Gone since the plan was made: upload it after all.
        if change.action == Action.UPDATE:
            if prior is None:  # the planner plans an update only for an object in state
                raise ChangeFailed(f"{address} is not in state: plan again")
            # Compare against what refresh saw, not the last state: drift must be repaired too.
            actual = {**prior.attributes, **(change.before or {})}
            sent, recorded = _update_arguments(change, desired)
            # An update that starts a remote object (a run's next attempt) records it the moment it exists.
            ctx = replace(
                ctx, record=lambda first: self._remember(address, {**recorded, **first}, adopted=prior.adopted)
            )
            attrs = rtype.update(ctx, prior.id, sent, actual)
            self._remember(address, {**recorded, **attrs}, adopted=prior.adopted)
            self.result.changed += 1
            return str(attrs["id"])
        if change.action == Action.DELETE_THEN_CREATE and prior:
            self._delete(rtype, ctx, prior)
            self.recorder.forget(address)
        attrs = self._create(rtype, ctx, change, desired)
        self._remember(address, {**desired, **attrs})
        if change.action == Action.CREATE_THEN_DELETE and prior:
            # Deposed, as Terraform says: deleted once its dependents moved to the new object.
            self._deposed[address] = (rtype, ctx, prior)
        self.result.added += 1
        if change.action.is_replace:
            self.result.destroyed += 1
        return str(attrs["id"])

    def _create(
        self, rtype: ResourceType, ctx: Context, change: ResourceChange, desired: dict[str, Any]
    ) -> dict[str, Any]:
        """Announce the create in the journal, send it, and resolve an ambiguous failure by
        looking the object up by its natural key: adopt it if it is there, send again if its
        absence is proven, and otherwise hold it as unresolved (never sent again on a guess)."""
        address = change.address
        self.recorder.intend(address, change.action.value, desired)
        since = time.time()
        recorded: list[bool] = []

        def record(first: dict[str, Any]) -> None:
            recorded.append(True)
            self._remember(address, {**desired, **first})

        recording = replace(ctx, record=record, address=str(address))
        attempt = 0
        while True:
            attempt += 1
            try:
                return rtype.create(recording, desired)
            except AppliedWithError:
                raise
            except ProviderError as exc:
                if recorded:
                    raise  # it exists and is in state: the next apply carries on from there
                if not (exc.ambiguous or exc.status == 409):
                    self.recorder.abandon(address, str(exc))
                    raise
                # Listings read anew (not the plan's): the create may just have made the object.
                found = find_created(rtype, recording.fresh(), address, desired, since)
                if found is not None:
                    self.result.recovered.append(address)
                    self.report(
                        Event(
                            "recovered",
                            f"{address}: {exc.message}; found what the create made by its natural key (id {found['id']})",
                            str(address),
                        )
                    )
                    return self._finish_recovered(rtype, recording, address, desired, found)
                if exc.status == 409:
                    if not exc.ambiguous:  # a refusal: this create made nothing
                        self.recorder.abandon(address, str(exc))
                    raise ChangeFailed(
                        f"{exc}; an object with this natural key existed before this apply: 'labform import {address} ID' takes it over"
                    ) from None
                if not safe_to_send_again(rtype):
                    why = unresolved_failure(rtype, redact(exc.message))
                    self.recorder.unresolved(address, why)
                    raise ChangeFailed(
                        f"{exc}; it may have been created, so it is not sent again; "
                        f"every apply refuses until you say which:\n{resolve_lines(address, '  ')}"
                    ) from None
                if attempt == CREATE_ATTEMPTS:
                    raise ChangeFailed(f"{exc}; sent {attempt} times, and the cloud shows nothing it made") from None
                self.report(
                    Event(
                        "progress",
                        f"{address}: {exc.message}; not created, sending again ({attempt + 1}/{CREATE_ATTEMPTS})",
                        str(address),
                    )
                )

    def _finish_recovered(
        self, rtype: ResourceType, ctx: Context, address: Address, desired: dict[str, Any], found: dict[str, Any]
    ) -> dict[str, Any]:
        """Record what was found, then do what its create still owed: a run's wait and gate, or
        the later steps of a create of several (a project's description, a group's members)."""
        actual = {**desired, **found}
        self._remember(address, actual)
        # A create sets every argument, those under ignore_changes too: what it still owes, it owes in full.
        changed, forcing = diff(rtype, protect(rtype, desired, actual), actual)
        if rtype.pending(desired, actual) or (changed and not forcing):
            return rtype.update(ctx, str(found["id"]), desired, actual)
        return found

    @staticmethod
    def _delete(rtype: ResourceType, ctx: Context, prior: ResourceState | None) -> None:
        """Delete the remote object; an adopted upload is only forgotten unless asked otherwise."""
        if prior is None or (prior.adopted and prior.attributes.get("on_destroy") != "delete"):
            return
        with contextlib.suppress(NotFoundError):  # already gone: the goal of a delete is reached
            rtype.delete(ctx, prior.id, prior.attributes)

    def _read_data(self, address: Address) -> None:
        args = data_arguments(self.config.data[address], self.lookup)
        if args is None:  # every block it depends on has been applied, so none is unknown now
            raise ChangeFailed(f"{address}: its arguments are still unknown after what it depends on was applied")
        self._data[address] = self.session.read_data(address, args)

    # --- state ---------------------------------------------------------
    def _dependencies(self, address: Address) -> list[str]:
        return sorted(str(a) for a in self.graph.dependencies(address) if not a.is_data)

    def _remember(self, address: Address, attrs: dict[str, Any], adopted: bool = False, tainted: bool = False) -> None:
        self.recorder.remember(address, attrs, self._dependencies(address), adopted=adopted, tainted=tainted)

    def _outputs(self) -> dict[str, Any]:
        outputs = {}
        for name, value in self.config.outputs.items():
            try:
                outputs[name] = substitute(value, self.config.scope.resolver(self.lookup))
            except ChangeFailed:
                outputs[name] = None
        return outputs


def _update_arguments(change: ResourceChange, desired: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what an update sends, what state records of it): each configured argument at the value
    the plan's ``after`` gives it. The planner applied ignore_changes there, so an ignored argument
    is sent at its recorded value, or not at all when it has none. Apply fills in only what the
    plan could not hold: a value unknown until now, and the secret behind a fingerprint when it is
    the configured one. A fingerprint the configured secret does not match (an ignored secret) is
    recorded, never sent."""
    after = change.after or {}
    sent: dict[str, Any] = {}
    recorded: dict[str, Any] = {}
    for key, value in desired.items():
        if key not in after:
            continue
        planned = after[key]
        if contains_unknown(planned):
            sent[key] = recorded[key] = value
        elif key in change.sensitive and secrets.is_fingerprint(planned):
            recorded[key] = planned
            if secrets.matches(value, planned):
                sent[key] = value
        else:
            sent[key] = recorded[key] = planned
    return sent, recorded
