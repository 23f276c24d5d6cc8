"""Refresh, diff, and decide each address's action — the one place actions are chosen.

Steps, in order:
1. refresh: read every object state knows, batched through the providers'
   list endpoints where they have them (one call per page, not per object),
   listings, pages and single reads at once, at most --parallelism in flight;
   an object a listing leaves out is read on its own before it counts as gone;
2. walk the graph, dependencies first, resolving references against what is
   planned so far (unknown ids stay UNKNOWN);
3. per resource, compare desired arguments with the refreshed object and pick
   create / update / replace / no-op; arguments the plan does not set are
   left unmanaged, ``ignore_changes`` is honoured;
4. objects in state but gone from the plan are deleted;
5. each planned create is looked up by its natural key, all at once, through
   the command's listings (one per scope), for the ``labform import`` hint; a
   content-addressed upload is looked up in step 3, where adopting it decides;
6. each gate is judged (``verdict``): a check beside the changes, never one.
   An object apply leaves as it is is judged afresh, on what step 1 read from
   the cloud (with ``-refresh=false``, on what state recorded: the last
   verdict); one apply creates, changes or waits for is unknown until apply.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from typing import Any

from labform.engine import recovery
from labform.engine.addresses import Address
from labform.engine.arguments import (
    data_arguments,
    data_source,
    desired_arguments,
    diff,
    protect,
    resource_type,
    same,
    sensitive_keys,
    type_named,
)
from labform.engine.changes import REPLACE_MARKS, Action, ActionReason, Check, CheckStatus, Notice, Plan, ResourceChange
from labform.engine.config import Block, PlanConfig
from labform.engine.errors import ConfigError, LabformError
from labform.engine.graph import DependencyGraph
from labform.engine.history import run_shards
from labform.engine.history.errors import HistoryError
from labform.engine.options import PlanOptions
from labform.engine.orphans import delete_reason
from labform.engine.references import UNKNOWN, Reference, contains_unknown, dig
from labform.engine.session import ProviderSession
from labform.engine.state import ResourceState, State
from labform.providers import budget, picking
from labform.providers.base import ResourceType
from labform.providers.errors import NotFoundError
from labform.providers.runs import shard_field

log = logging.getLogger("labform.plan")


class Planner:
    def __init__(
        self,
        config: PlanConfig,
        graph: DependencyGraph,
        state: State,
        session: ProviderSession,
        options: PlanOptions,
        durations: run_shards.Durations | None = None,
    ):
        self.config = config
        self.durations = durations  # the test history a run's shards are split by; None: no history here
        self.graph = graph
        self.state = state
        self.session = session
        self.options = options
        self.refreshed: dict[str, dict[str, Any] | None] = {}
        self.planned: dict[Address, dict[str, Any]] = {}
        self.notices: list[Notice] = []
        self._desired: dict[Address, dict[str, Any]] = {}  # each planned resource's arguments, for its check
        # A create's pick or budget the cloud cannot meet: refused once -target has narrowed the plan.
        self._unmet: dict[Address, ConfigError] = {}
        # Creates to look for a twin of by natural key, after the walk (no action depends on it).
        self._twins: list[tuple[ResourceType, Address, dict[str, Any]]] = []

    # --- refresh -------------------------------------------------------
    def refresh(self) -> None:
        """Read each object in state, grouped by the listing it can be read through (alone in its
        scope, an object with a read of its own is read on its own): every listing,
        its pages and every single read at once, at most --parallelism in flight (the session's fan-out).
        With -refresh=false nothing is read: each object is taken as state recorded it."""
        if not self.options.refresh:
            self.refreshed = {key: dict(item.attributes) for key, item in self.state.resources.items()}
            return
        groups: dict[tuple[str, tuple[Any, ...]], list[str]] = {}
        singles: list[str] = []
        for key, item in self.state.resources.items():
            rtype = type_named(item.type)
            if rtype is None:
                raise LabformError(f"state holds {key} of type '{item.type}', which no provider knows")
            if rtype.ephemeral and self.options.destroy:  # a gate has nothing remote: forgetting it reads nothing
                self.refreshed[key] = dict(item.attributes)
                continue
            scope = rtype.list_scope(item.attributes)
            if scope is None:
                singles.append(key)
            else:
                groups.setdefault((item.type, scope), []).append(key)
        for group, keys in list(groups.items()):
            # One object in a scope is one read, where its listing pages through all the scope holds
            # (an account's every project, every group's members): it is listed only if it has no read.
            if len(keys) == 1 and type_named(group[0]).reads_each():
                singles += groups.pop(group)
        jobs = [partial(self._refresh_group, group, keys) for group, keys in groups.items()]
        jobs += [partial(self._refresh_one, key) for key in singles]
        self.session.listings.fanout.map(lambda job: job(), jobs)

    def _refresh_group(self, group: tuple[str, tuple[Any, ...]], keys: list[str]) -> None:
        """A listing proves presence, never absence: an object it leaves out is read on its own
        (one GET each), and only that read can say it is gone."""
        type_name, scope = group
        rtype = type_named(type_name)
        ctx = self.session.context(Address.parse(keys[0]).provider)
        try:
            listed = {str(item["id"]): item for item in rtype.listed(ctx, scope)}
        except NotFoundError:
            listed = {}  # the scope itself (e.g. the project) answers 404: each object's read says the rest
        unlisted = []
        for key in keys:
            item = self.state.resources[key]
            found = listed.get(item.id)
            if found is not None:
                self.refreshed[key] = self._merge(rtype, item, found)
            elif rtype.reads_each():
                unlisted.append(key)
            else:
                self.refreshed[key] = None
        self.session.listings.fanout.map(self._refresh_one, unlisted)

    def _refresh_one(self, key: str) -> None:
        item = self.state.resources[key]
        rtype = type_named(item.type)
        ctx = self.session.context(Address.parse(key).provider)
        try:
            found = rtype.read(ctx, item.id, item.attributes)
        except NotFoundError:
            found = None
        self.refreshed[key] = None if found is None else self._merge(rtype, item, found)

    @staticmethod
    def _merge(rtype: ResourceType, item: ResourceState, remote: dict[str, Any]) -> dict[str, Any]:
        """Remote values win; arguments the cloud never returns keep their state value."""
        return {**item.attributes, **protect(rtype, remote, prior=item.attributes)}

    # --- plan ----------------------------------------------------------
    def plan(self) -> Plan:
        self.refresh()
        if self.options.refresh_only:
            changes = self._drift_changes()
        elif self.options.destroy:
            changes = self._destroy_changes()
        else:
            changes = self._config_changes() + self._orphan_changes()
            self._look_for_twins()
        changes = _held(self._targeted(changes), {item.address for item in recovery.unresolved(self.state)})
        if self.options.destroy:
            self._refuse_protected_destroys(changes)
        for change in changes:
            if change.address in self._unmet:
                raise self._unmet[change.address]
        checks = [] if self.options.destroy or self.options.refresh_only else self._checks(changes)
        return Plan(
            unresolved=recovery.unresolved(self.state),
            changes=changes,
            state_serial=self.state.serial,
            state_lineage=self.state.lineage,
            file_hashes=self.config.file_hashes,
            notices=self.notices,
            destroy=self.options.destroy,
            refresh_only=self.options.refresh_only,
            checks=checks,
            refreshed=self.options.refresh,
        )

    def _checks(self, changes: list[ResourceChange]) -> list[Check]:
        """Each gate's verdict, in plan order: judged on what the plan read (``before``) for an
        object apply leaves as it is; known only after apply for one it creates, changes or waits for."""
        checks = []
        for change in changes:
            desired = self._desired.get(change.address)
            if desired is None or change.action == Action.DELETE:
                continue
            unchanged = change.action == Action.NOOP and not contains_unknown(desired)
            verdict = resource_type(change.address).verdict(desired, (change.before or {}) if unchanged else {})
            if verdict is None:
                continue
            if unchanged:
                checks.append(Check(change.address, CheckStatus(verdict.status), verdict.why))
            else:
                checks.append(Check(change.address, CheckStatus.UNKNOWN, "known after apply"))
        return checks

    def drift(self) -> list[ResourceChange]:
        """Objects changed outside labform since the last apply (for the plan's note)."""
        return [c for c in self._drift_changes() if c.action != Action.NOOP]

    def _drift_changes(self) -> list[ResourceChange]:
        """Objects whose arguments changed remotely (computed values such as a run's state may move freely)."""
        changes = []
        for key, item in sorted(self.state.resources.items()):
            address = Address.parse(key)
            now = self.refreshed.get(key)
            rtype = type_named(item.type)
            if rtype.ephemeral:
                continue
            sensitive = sensitive_keys(rtype, item.attributes, now)
            managed = set(rtype.Args.model_fields) - rtype.Args.fields_with("local")
            gone = now is None
            if now is None or any(
                not same(rtype, k, now.get(k), item.attributes.get(k)) for k in managed if k in item.attributes
            ):
                changes.append(
                    ResourceChange(
                        address,
                        Action.DELETE if gone else Action.UPDATE,
                        item.attributes,
                        now,
                        sensitive=sensitive,
                        reason=f"{'deleted' if gone else 'changed'} outside labform",
                        remote_id=item.id,
                    )
                )
            else:
                changes.append(
                    ResourceChange(address, Action.NOOP, item.attributes, now, sensitive=sensitive, remote_id=item.id)
                )
        return changes

    def _destroy_changes(self) -> list[ResourceChange]:
        return [
            self._delete_change(key, item, "", "already gone from the cloud; only forgotten")
            for key, item in sorted(self.state.resources.items())
        ]

    def _refuse_protected_destroys(self, changes: list[ResourceChange]) -> None:
        """Checked after --target narrowed the plan: an untargeted protected object is no obstacle."""
        for change in changes:
            block = self.config.resources.get(change.address)
            if change.action == Action.DELETE and block and block.lifecycle.prevent_destroy:
                raise ConfigError(
                    "lifecycle.prevent_destroy is set, so it cannot be destroyed", block.location, str(change.address)
                )

    def _orphan_changes(self) -> list[ResourceChange]:
        """Objects in state the plan no longer declares, each with Terraform's word for why."""
        changes = []
        for key, item in sorted(self.state.resources.items()):
            address = Address.parse(key)
            if address not in self.config.resources:
                why = delete_reason(address, self.config.scope, self.config.moves)
                gone = "not in the plan and already gone from the cloud"
                changes.append(self._delete_change(key, item, "not in the plan any more", gone, why))
        return changes

    def _delete_change(
        self, key: str, item: ResourceState, reason: str, reason_if_gone: str, why: ActionReason | None = None
    ) -> ResourceChange:
        before = self.refreshed.get(key)
        rtype = type_named(item.type)
        return ResourceChange(
            Address.parse(key),
            Action.DELETE,
            before or item.attributes,
            None,
            sensitive=sensitive_keys(rtype, before or item.attributes),
            reason=reason if before is not None else reason_if_gone,
            remote_id=item.id,
            action_reason=why,
        )

    def _config_changes(self) -> list[ResourceChange]:
        changes = []
        for address in self.graph.order():
            block = self.config.block(address)
            change = self._plan_data(block) if address.is_data else self._plan_resource(block)
            if change is not None:
                changes.append(change)
        return changes

    def lookup(self, ref: Reference) -> Any:
        if ref.splat:  # every instance's planned object: the expression picks its attribute
            objects = [self.planned.get(address) for address in self.config.instances_of(ref.target)]
            return UNKNOWN if any(o is None for o in objects) else objects
        values = self.planned.get(ref.target)
        if values is None:
            return UNKNOWN
        try:
            return dig(values, ref.attribute)
        except (KeyError, IndexError, ValueError):
            return UNKNOWN

    def _plan_data(self, block: Block) -> ResourceChange | None:
        args = data_arguments(block, self.lookup)
        if args is None:
            source = data_source(block.address)
            self.planned[block.address] = {}
            return ResourceChange(
                block.address,
                Action.READ,
                None,
                dict(block.arguments),
                after_unknown=set(source.computed),
                reason="depends on values known only after apply",
                action_reason=ActionReason.READ_BECAUSE_CONFIG_UNKNOWN,
            )
        self.planned[block.address] = self.session.read_data(block.address, args)
        return None

    def desired(self, block: Block) -> dict[str, Any]:
        return desired_arguments(block, self.lookup)

    def _plan_resource(self, block: Block) -> ResourceChange:
        desired = self._desired[block.address] = self.desired(block)
        change = self._decide(block, desired)
        if change.action != Action.NOOP:
            ctx = self.session.context(block.address.provider)
            checked = run_shards.with_split(desired, change.after)
            for field_name, message in resource_type(block.address).check_remote(ctx, checked):
                raise ConfigError(message, block.positions.of(block.key_path + (field_name,)), str(block.address))
        return change

    def _decide(self, block: Block, desired: dict[str, Any]) -> ResourceChange:
        address = block.address
        rtype = resource_type(address)
        prior = self.state.resources.get(str(address))
        actual = self.refreshed.get(str(address)) if prior else None
        protected = protect(rtype, desired, prior=actual or (prior.attributes if prior else None))
        sensitive = sensitive_keys(rtype, protected, actual)
        unknown_computed = {name for name in rtype.computed if name not in desired}
        created = {**protected, **{name: UNKNOWN for name in unknown_computed}}
        if prior is None or actual is None:
            reason = (
                ""
                if prior is None
                else "judged again on every apply"
                if rtype.ephemeral
                else "gone from the cloud (deleted outside labform)"
            )
            existing = self._existing(rtype, address, desired) if rtype.content_addressed else None
            if existing is not None:
                adopted = {**protected, **protect(rtype, existing)}
                self.planned[address] = adopted
                return ResourceChange(
                    address,
                    Action.ADOPT,
                    None,
                    adopted,
                    sensitive=sensitive,
                    reason=reason,
                    remote_id=str(existing["id"]),
                )
            if rtype.hint_imports and not rtype.content_addressed:
                self._twins.append((rtype, address, desired))
            shards = self._split(block, rtype, desired, created)
            self.planned[address] = created
            return ResourceChange(
                address,
                Action.CREATE,
                None,
                created,
                after_unknown=_unknowns(created),
                sensitive=sensitive,
                reason=reason,
                note=self._estimate(block, rtype, desired, shards),
            )
        # ignore_changes is applied here once: the ignored arguments keep what refresh saw (or stay
        # unset), so the update apply sends, read from the plan's ``after``, leaves them alone.
        kept = {k: v for k, v in protected.items() if k not in block.lifecycle.ignore_changes}
        changed, forcing = diff(rtype, kept, actual)
        why = _replace_reason(prior.tainted, address in self.options.replace, bool(forcing))
        if why is not None and not forcing:
            forcing = [REPLACE_MARKS[why]]
        if forcing:
            if block.lifecycle.prevent_destroy:
                raise ConfigError(
                    f"must be replaced (because of {', '.join(forcing)}), but lifecycle.prevent_destroy is set",
                    block.location,
                    str(address),
                )
            action = Action.CREATE_THEN_DELETE if block.lifecycle.create_before_destroy else Action.DELETE_THEN_CREATE
            shards = self._split(block, rtype, desired, created)
            self.planned[address] = created
            return ResourceChange(
                address,
                action,
                actual,
                created,
                after_unknown=_unknowns(created),
                requires_replace=forcing,
                sensitive=sensitive,
                remote_id=prior.id,
                note=self._estimate(block, rtype, desired, shards),
                action_reason=why,
            )
        after = {**actual, **kept}
        self.planned[address] = after
        unfinished = None if changed or contains_unknown(desired) else rtype.pending(desired, actual)
        action = Action.UPDATE if changed or unfinished else Action.NOOP
        return ResourceChange(
            address,
            action,
            actual,
            after,
            after_unknown=_unknowns(after),
            sensitive=sensitive,
            reason=unfinished or "",
            remote_id=prior.id,
        )

    def _split(self, block: Block, rtype: ResourceType, desired: dict[str, Any], created: dict[str, Any]) -> str | None:
        """A create asking for shards gets them split now (``created``'s shard_plan, which apply
        starts as the plan shows it); the plan's line for them, or None without shards."""
        field = shard_field(desired)
        if field is None:
            return None
        try:
            if self.durations is None:
                raise HistoryError("this plan has no test history to split shards by")
            split = run_shards.split(rtype, desired, self.durations, block.address.provider)
        except HistoryError as error:
            raise ConfigError(str(error), block.positions.of(block.key_path + (field,)), str(block.address)) from None
        created[run_shards.SHARD_PLAN] = split.as_json()
        return run_shards.summary(split)

    def _estimate(
        self, block: Block, rtype: ResourceType, desired: dict[str, Any], shards: str | None = None
    ) -> str | None:
        """What a create costs, which devices it picks and how it is sharded, as the plan shows them:
        a pick the cloud cannot meet now, or an estimate over the block's budget, fails the plan at
        that field (unless -target leaves the create out)."""
        ctx = self.session.context(block.address.provider)
        notes = [None if contains_unknown(desired) else rtype.estimate(ctx, desired), shards]
        for outlook in (picking.outlook, budget.outlook):
            note, problem = outlook(rtype.Args, ctx, desired)
            if problem:
                where, message = problem
                location = block.positions.of(block.key_path + where) or block.positions.of(block.key_path + where[:1])
                self._unmet.setdefault(block.address, ConfigError(message, location, str(block.address)))
            notes.append(note)
        return "; ".join(note for note in notes if note) or None

    def _existing(self, rtype: ResourceType, address: Address, desired: dict[str, Any]) -> dict[str, Any] | None:
        """The remote object with this natural key, if the cloud already has one."""
        if not (rtype.content_addressed or rtype.hint_imports):
            return None
        if not rtype.natural_key or contains_unknown({k: desired.get(k) for k in rtype.natural_key}):
            return None
        return rtype.find_existing(self.session.context(address.provider), desired)

    def _look_for_twins(self) -> None:
        """Each planned create's natural key looked up, all at once (one listing per scope, shared)."""
        found = self.session.listings.fanout.map(lambda twin: self._existing(*twin), self._twins)
        for (rtype, address, desired), existing in zip(self._twins, found, strict=False):
            if existing is not None:
                self._import_notice(rtype, address, desired, existing)

    def _import_notice(
        self, rtype: ResourceType, address: Address, desired: dict[str, Any], found: dict[str, Any]
    ) -> None:
        """Adoption is only for content-addressed uploads: any other match is the user's call."""
        key = ", ".join(f"{k}={desired.get(k)!r}" for k in rtype.natural_key)
        self.notices.append(
            Notice(
                address,
                f"an object with {key} already exists (id {found['id']}); run 'labform import {address} {found['id']}' to manage it instead of creating a duplicate",
            )
        )

    def _targeted(self, changes: list[ResourceChange]) -> list[ResourceChange]:
        if not self.options.targets:
            return changes
        keep: set[Address] = set()
        nodes = self.graph.nodes()
        for target in self.options.targets:  # a block's address targets each of its instances
            for node in [node for node in nodes if target.contains(node)]:
                keep |= self.graph.descendants(node) if self.options.destroy else self.graph.ancestors(node)
                keep.add(node)
        keep |= {c.address for c in changes if any(target.contains(c.address) for target in self.options.targets)}
        return [c for c in changes if c.address in keep]


def _replace_reason(tainted: bool, requested: bool, forced: bool) -> ActionReason | None:
    """Why an object is replaced, in Terraform's order: tainted, then --replace, then an argument
    that cannot change in place; None when it is not replaced."""
    if tainted:
        return ActionReason.REPLACE_BECAUSE_TAINTED
    if requested:
        return ActionReason.REPLACE_BY_REQUEST
    return ActionReason.REPLACE_BECAUSE_CANNOT_UPDATE if forced else None


def _unknowns(attrs: dict[str, Any]) -> set[str]:
    return {key for key, value in attrs.items() if contains_unknown(value)}


def _held(changes: list[ResourceChange], unresolved: set[Address]) -> list[ResourceChange]:
    """A create of an address whose earlier create has an unknown outcome says it waits for
    ``labform state resolve`` (apply refuses it until then)."""
    return [
        replace(change, reason="held until 'labform state resolve' says what an earlier create made")
        if change.action == Action.CREATE and change.address in unresolved
        else change
        for change in changes
    ]
