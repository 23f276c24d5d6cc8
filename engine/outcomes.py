"""What a command did, as plain data: everything the CLI prints, the CI summary writes and
``apply -json`` streams is read off these objects, so each phrase has one home.

    ApplyOutcome                 one apply or destroy (or an apply the user declined)
    ├── changes: ChangeOutcome   each planned change: done, failed, skipped or not started,
    │                            with its block's location for a CI annotation
    ├── runs: RunOutcome         each run among them: the facts its type reports, how long it took
    ├── checks: Check            each gate judged on what the apply left in state (``judged_checks``)
    └── headline / counts        "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."

A failing check fails the apply once its changes are carried out: status
``failed`` ("Apply failed! ..."), exit 1, the check named with why.

The runner builds them (``engine/runner.py``); the CLI and ``engine/ci.py`` only print them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from labform.engine.arguments import resource_type
from labform.engine.changes import Action, Check, CheckStatus, Plan, ResourceChange
from labform.engine.errors import SourceLocation

if TYPE_CHECKING:
    from labform.engine.executor import ApplyResult
    from labform.engine.state import State
    from labform.providers.base import RunFacts

Result = Literal["done", "failed", "skipped", "not started"]


@dataclass(frozen=True)
class ChangeOutcome:
    """How one planned change ended. ``detail``: the error of a failed change, the failed change a
    skipped one depended on, or why it never started."""

    change: ResourceChange
    result: Result
    detail: str = ""
    location: SourceLocation | None = None  # where its block is written, for a CI annotation

    @property
    def address(self) -> str:
        return str(self.change.address)


@dataclass(frozen=True)
class RunOutcome:
    """A run among the applied changes: what its cloud reports, and the apply's verdict on its gate."""

    outcome: ChangeOutcome
    facts: RunFacts
    seconds: float | None  # how long its change took in this apply (None: not carried out now)

    @property
    def gate(self) -> str:
        if self.outcome.result == "failed":
            return "failed (see above)"
        if self.outcome.result != "done":
            return self.outcome.result
        if self.facts.finished is False:
            return "not finished"
        return {True: "passed", False: "missed", None: "no gate"}[self.facts.gate]


@dataclass
class ApplyOutcome:
    """One apply or destroy. ``result`` is None when nothing was applied (no changes, or declined)."""

    verb: str  # apply or destroy
    plan: Plan
    drift: list[ResourceChange]
    result: ApplyResult | None
    approved: bool = True
    changes: list[ChangeOutcome] = field(default_factory=list)
    runs: list[RunOutcome] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # Terraform's output -json shape
    checks: list[Check] = field(default_factory=list)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == CheckStatus.FAIL]

    @property
    def changes_ok(self) -> bool:
        return self.result is None or self.result.ok

    @property
    def ok(self) -> bool:
        return self.changes_ok and not self.failed_checks

    @property
    def interrupted(self) -> str | None:
        return self.result.interrupted if self.result is not None else None

    @property
    def failed(self) -> list[ChangeOutcome]:
        return [c for c in self.changes if c.result == "failed"]

    @property
    def status(self) -> str:
        """complete, interrupted, incomplete (a change failed) or failed (every change carried out,
        a check failed): the verdict a CI summary and the headline give."""
        if self.ok:
            return "complete"
        if self.interrupted:
            return "interrupted"
        return "failed" if self.changes_ok else "incomplete"

    def counts(self) -> str:
        """``1 added, 0 changed, 0 destroyed`` (adopted first when any; failures when not ok)."""
        result = self.result
        if result is None:
            return "0 added, 0 changed, 0 destroyed"
        counts = f"{result.added} added, {result.changed} changed, {result.destroyed} destroyed"
        if result.adopted:
            counts = f"{result.adopted} adopted, " + counts
        if not result.ok:
            counts += f", {len(result.failed)} failed, {len(result.skipped)} skipped"
            if result.not_started:
                counts += f", {len(result.not_started)} not started"
        return counts

    def headline(self) -> str:
        return f"{self.verb.capitalize()} {self.status}! Resources: {self.counts()}."

    def summary(self) -> dict[str, Any]:
        """The ``apply -json`` summary event's fields: the changes', then every check's verdict."""
        from labform.engine.executor import ApplyResult

        checks = [{"address": str(c.address), "status": c.status.value, "reason": c.why or None} for c in self.checks]
        return {**(self.result or ApplyResult()).summary(), "checks": checks}


def judged_checks(plan: Plan, changes: list[ChangeOutcome], state: State) -> list[Check]:
    """Each gate judged again on what the apply left in state: an object apply left as it is on
    what its plan read, one it changed on what the change recorded (a saved plan's too). A change
    that failed, was skipped or never started reports itself, its check unknown."""
    settled = {c.address: c.result for c in changes}
    checks = []
    for change in plan.changes:
        if change.address.is_data or change.action == Action.DELETE:
            continue
        recorded = state.resources.get(str(change.address))
        if recorded is None:
            continue
        verdict = resource_type(change.address).verdict(recorded.attributes, recorded.attributes)
        if verdict is None:
            continue
        result = settled.get(str(change.address), "done")
        if result != "done":
            checks.append(Check(change.address, CheckStatus.UNKNOWN, f"its change {result}"))
        else:
            checks.append(Check(change.address, CheckStatus(verdict.status), verdict.why))
    return checks


def change_outcomes(
    plan: Plan, result: ApplyResult, locations: dict[str, SourceLocation] | None = None
) -> list[ChangeOutcome]:
    """Every planned change with how it ended: what is not failed, skipped or not started was carried out."""
    locations = locations or {}
    failed = {str(a): e for a, e in result.failed}
    skipped = {str(a): str(result.skipped_because.get(a, "")) for a in result.skipped}
    not_started = {str(a) for a in result.not_started}
    outcomes = []
    for change in plan.changes:
        if change.action in (Action.NOOP, Action.READ):
            continue
        address = str(change.address)
        where = locations.get(address)
        if address in failed:
            outcomes.append(ChangeOutcome(change, "failed", failed[address], where))
        elif address in skipped:
            because = f"{skipped[address]} failed" if skipped[address] else ""
            outcomes.append(ChangeOutcome(change, "skipped", because, where))
        elif address in not_started:
            outcomes.append(ChangeOutcome(change, "not started", "interrupted", where))
        else:
            outcomes.append(ChangeOutcome(change, "done", "", where))
    return outcomes
