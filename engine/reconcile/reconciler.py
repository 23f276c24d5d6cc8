"""One reconcile of one workspace, in-process: fetch the commit, plan (drift), judge the policy,
apply when allowed, and record it all as a *reconciliation*.

Everything goes through the runner's public functions and the objects they return
(``PlanResult``, ``ApplyOutcome``): a reconcile is ``labform plan -out`` and ``labform apply
FILE`` with no process of their own. What is applied is always the saved plan that was
judged, so a state that moved in between is refused exactly as ``apply FILE`` refuses it.

A reconcile runs inside the workspace's checkout (plans name their files from the working
directory, as in Terraform) with the workspace's own environment laid over the process's,
both restored afterwards: a process reconciles one workspace at a time (docs/reconcile.md).

    outcome            when
    ok                 nothing drifted, nothing to change, every check passed
    drift              the cloud or the plan moved, and the policy is detect
    applied            the changes were applied (auto within its rules, or approved)
    failed             an error: git, the plan, the cloud, an apply that failed (backs off)
    interrupted        SIGTERM stopped the worker mid-apply: the changes in flight finished, none
                       started after; due again at once, no backoff (the next worker carries on)
    check failed       a gate's verdict failed: news, not a fault (no backoff)
    needs resolution   a create's outcome is unknown: held until 'labform state resolve'
    awaiting approval  the plan is saved for 'labform reconcile approve' (approve, or auto outside its rules)
    refused            an approved plan was stale (the state moved): not applied, no backoff
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labform.engine import planfile
from labform.engine.changes import CheckStatus
from labform.engine.errors import ConfigError, LabformError, PlanRefusedError
from labform.engine.options import PlanOptions
from labform.engine.reconcile import gitsync, report
from labform.engine.reconcile.config import LoadedConfig, Mode, WorkspaceSpec, workspace_env
from labform.engine.reconcile.policy import judge, plan_document
from labform.engine.reconcile.records import Reconciliation, Records
from labform.providers import masking

if TYPE_CHECKING:
    from labform.engine.outcomes import ApplyOutcome
    from labform.engine.runner import PlanResult, Workspace

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")  # git@github.com:org/plans.git
_FRESH_PLAN = (
    "for a fresh plan run 'labform reconcile now {name}' (or wait for its next reconcile), then approve that one"
)
_CWD_AND_ENV = threading.Lock()  # one reconcile at a time may own the process's directory and environment


@contextmanager
def _inside(folder: Path, env: dict[str, str]) -> Iterator[None]:
    """The reconcile's working directory and environment, the process's own given back after."""
    with _CWD_AND_ENV:
        before_dir, before_env = os.getcwd(), {name: os.environ.get(name) for name in env}
        os.chdir(folder)
        os.environ.update(env)
        try:
            yield
        finally:
            os.chdir(before_dir)
            for name, value in before_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@dataclass
class Reconciler:
    loaded: LoadedConfig
    records: Records
    stop: threading.Event | None = None  # set by SIGTERM in a worker: the apply starts no new change

    def __post_init__(self) -> None:
        """The config's rate limits are the process's: every reconcile it runs shares their buckets."""
        from labform.providers import ratelimit

        ratelimit.configure({cloud: limit.rate() for cloud, limit in self.loaded.config.rate_limits.items()})

    def clone_of(self, name: str) -> Path:
        return self.loaded.local(self.loaded.config.cache_dir) / "repos" / name

    def _plan_file(self, name: str, number: int) -> Path:
        return self.loaded.local(self.loaded.config.cache_dir) / "plans" / f"{name}-{number}.plan.json"

    def _repo(self, spec: WorkspaceSpec) -> str:
        """A relative repository path is read from the config's folder; a URL as written."""
        if "://" in spec.repo or _SCP_LIKE.match(spec.repo):
            return spec.repo
        return str(self.loaded.local(Path(spec.repo)))

    def reconcile(self, name: str, scheduled_at: datetime | None = None) -> Reconciliation:
        """One reconcile of ``name``, recorded whatever happens to it (ReconcileBusy if one is running)."""
        spec = self.loaded.workspace(name)
        with self.records.held(name):
            item = self.records.start(name, scheduled_at)
            planned = self._carried_out(item, lambda: self._reconcile(name, spec, item))
            self._report(name, item, planned)
            self.records.finish(item)
        return item

    def approve(self, name: str, number: int) -> Reconciliation:
        """Apply the plan reconciliation ``number`` saved, as ``apply FILE`` would: refused if stale.

        The approval is consumed only once the apply ran. A stale plan is recorded ``refused``
        (no backoff: a verdict, not a fault) and marked so, never approvable again: the next
        reconcile makes a fresh plan, approvable in its turn. Any other failure before the
        apply (git, the state lock, an unresolved create) leaves it approvable."""
        spec = self.loaded.workspace(name)
        waiting = self.records.get(name, number)
        if waiting is None:
            raise LabformError(f"workspace '{name}' has no reconciliation #{number}")
        if waiting.refused_in is not None:
            raise LabformError(
                f"reconciliation #{number} of '{name}' was refused as stale (in #{waiting.refused_in}): "
                f"{_FRESH_PLAN.format(name=name)}"
            )
        if "saved_plan" in waiting.unreadable:
            raise LabformError(
                f"reconciliation #{number} of '{name}': its saved plan {waiting.unreadable['saved_plan']}"
            )
        if waiting.approved_in is not None:
            raise LabformError(f"reconciliation #{number} of '{name}' was approved already (in #{waiting.approved_in})")
        saved = waiting.saved_plan
        if saved is None or not waiting.awaiting_approval or waiting.outcome != "awaiting approval":
            raise LabformError(f"reconciliation #{number} of '{name}' is {waiting.outcome}, not awaiting approval")
        with self.records.held(name):
            item = self.records.start(name, None)
            item.policy = {"approved": number}
            ran: list[bool] = []

            def apply_saved() -> None:
                checkout = gitsync.at_commit(self._repo(spec), str(waiting.commit), self.clone_of(name), spec.git)
                item.commit = checkout.commit
                plan_file = self._plan_file(name, number)
                plan_file.parent.mkdir(parents=True, exist_ok=True)
                planfile.write_kept(saved, plan_file)
                with _inside(checkout.root, workspace_env(self.loaded, name)):
                    try:
                        self._apply(self._workspace(name, spec), plan_file, item)
                    except PlanRefusedError as exc:
                        item.outcome, item.error = "refused", f"{exc}; {_FRESH_PLAN.format(name=name)}"
                        return
                ran.append(True)

            self._carried_out(item, apply_saved)
            self._report(name, item, None)
            self.records.finish(item)
            if ran:
                self.records.mark_approved(number, item.id)
            elif item.outcome == "refused":
                self.records.mark_refused(number, item.id)
        return item

    def _carried_out(self, item: Reconciliation, work: Any) -> PlanResult | None:
        """``work`` run, its failure recorded as the outcome instead of raised."""
        from labform.engine.recovery import UnresolvedCreate

        try:
            planned: PlanResult | None = work()
        except UnresolvedCreate as exc:
            item.outcome, item.error = "needs resolution", str(exc)
        except PlanRefusedError as exc:
            item.outcome, item.error = "failed", f"refused: {exc}"
        except LabformError as exc:
            item.outcome, item.error = "failed", str(exc)
        except Exception as exc:  # a bug: recorded, and never the end of the loop for other workspaces
            item.outcome, item.error = "failed", f"internal error ({type(exc).__name__}): {exc}"
        else:
            return planned
        return None

    def _workspace(self, name: str, spec: WorkspaceSpec) -> Workspace:
        from labform.engine import runner

        return runner.Workspace(
            path=Path(spec.path), state=self.loaded.state_of(name), variables={**self._var_files(spec), **spec.vars}
        )

    def _var_files(self, spec: WorkspaceSpec) -> dict[str, Any]:
        from ruamel.yaml import YAML, YAMLError

        values: dict[str, Any] = {}
        for file in spec.var_files:
            try:
                loaded = YAML(typ="safe").load(Path(file).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, YAMLError) as exc:
                raise ConfigError(f"cannot read var file {file} in the repository: {exc}") from None
            if not isinstance(loaded, dict):
                raise ConfigError(f"var file {file} must hold a mapping of variable names to values")
            values.update(loaded)
        return values

    def _reconcile(self, name: str, spec: WorkspaceSpec, item: Reconciliation) -> PlanResult:
        from labform.engine import runner
        from labform.engine.loader import plan_files

        checkout = gitsync.sync(self._repo(spec), spec.ref, self.clone_of(name), spec.git)
        item.commit = checkout.commit
        with _inside(checkout.root, workspace_env(self.loaded, name)):
            try:
                plan_files(Path(spec.path))
            except ConfigError as exc:
                where = self.loaded.positions.of(("workspaces", name, "path"))
                raise ConfigError(f"{exc} at commit {checkout.commit[:12]}", where, f"workspaces.{name}.path") from None
            ws = self._workspace(name, spec)
            plan_file = self._plan_file(name, item.id)
            plan_file.parent.mkdir(parents=True, exist_ok=True)
            planned = runner.plan(ws, PlanOptions(), out=plan_file)
            self._judge(spec, item, planned, plan_file, ws)
        return planned

    def _judge(
        self, spec: WorkspaceSpec, item: Reconciliation, planned: PlanResult, plan_file: Path, ws: Workspace
    ) -> None:
        plan = planned.plan
        item.summary = {**plan.counts(), "has_changes": plan.has_changes, "drifted": len(planned.drift)}
        item.drift = report.drift_entries(planned.drift)
        if plan.unresolved:
            item.outcome = "needs resolution"
            item.error = "; ".join(f"{u.address}: {u.why}" for u in plan.unresolved)
            return
        if not plan.has_changes:
            failing = [c for c in plan.checks if c.status == CheckStatus.FAIL]
            item.outcome = "drift" if planned.drift else "check failed" if failing else "ok"
            if failing:
                item.error = "; ".join(c.line() for c in failing)
            return
        mode = spec.policy.mode
        verdict = judge(spec.policy.rules, plan_document(planned))
        item.policy = {"mode": mode.value, "held": verdict.held, "broken": verdict.broken}
        if mode == Mode.DETECT:
            item.outcome = "drift"
        elif mode == Mode.APPROVE or not verdict.ok:
            item.outcome = "awaiting approval"
            item.saved_plan = planfile.kept(plan_file)
        else:
            self._apply(ws, plan_file, item)

    def _apply(self, ws: Workspace, plan_file: Path, item: Reconciliation) -> None:
        from labform.engine import runner

        outcome = runner.apply(ws, PlanOptions(), plan_file, stop=self.stop)
        item.applied = [
            {"address": c.address, "action": c.change.action.value, "result": c.result, "detail": c.detail}
            for c in outcome.changes
        ]
        item.outcome, item.error = _verdict(outcome, self.stop is not None and self.stop.is_set())

    def _report(self, name: str, item: Reconciliation, planned: PlanResult | None) -> None:
        """A drift report for every reconciliation that found, changed or failed something."""
        if item.outcome == "ok":
            return
        folder = self.loaded.local(self.loaded.config.reports_dir) / name
        target = folder / f"{item.id}.md"
        from labform.engine import diskwrite

        diskwrite.replace(target, report.markdown(name, item, planned), "no report was written", LabformError, 0o644)
        item.report = str(target)


def _verdict(outcome: ApplyOutcome, stopped: bool) -> tuple[str, str | None]:
    if outcome.ok:
        return "applied", None
    if stopped and outcome.interrupted and not outcome.failed:
        waiting = sum(1 for c in outcome.changes if c.result == "not started")
        return "interrupted", (
            f"{outcome.interrupted} stopped the worker: the changes in flight finished, {waiting} not started "
            "(the next reconcile carries them out)"
        )
    if outcome.changes_ok:
        return "check failed", "; ".join(c.line() for c in outcome.failed_checks)
    details = "; ".join(f"{c.address}: {c.detail}" for c in outcome.failed)
    return "failed", masking.redact(outcome.headline() + (f" {details}" if details else ""))
