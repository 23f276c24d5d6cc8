"""What a CI system shows besides the log, and a log that never looks hung.

- ``GITHUB_STEP_SUMMARY`` set: plan and apply append a Markdown summary to that
  file (a table of changes; for runs: devices, passed/failed, duration,
  credits used beside the plan's estimate, the gate's verdict, then the failed,
  flaky and quarantined tests as the report lists them; every check with its
  status), shown on the workflow run's page.
  What a run's attributes say of its result is asked of its resource type
  (``facts``): nothing here knows how any cloud records results.
- ``GITHUB_ACTIONS=true``: errors that have a place in a plan file become
  ``::error file=…,line=…::`` workflow commands, which GitHub shows as
  annotations on that line of the pull request.
- ``ChangeLog`` is the one reporter of an apply: it prints every event (a line
  for people; for ``-json`` Terraform's machine-readable UI, one message a line,
  docs/json-ui.md), and on a pipe, where no progress bar can show that work
  goes on, a heartbeat for a change silent for ``HEARTBEAT`` seconds — at most
  one per change that often — so throttling lives here and nowhere else.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labform.engine.addresses import Address
from labform.engine.changes import NO_CHANGES, Action, Check, CheckStatus, Plan, ResourceChange, resolve_commands
from labform.engine.errors import ConfigError, ConfigErrors, SourceLocation
from labform.engine.events import Event, message, resource_object, ui_action, version_message
from labform.engine.outcomes import ApplyOutcome, RunOutcome
from labform.engine.version import labform_version
from labform.providers.errors import LabformError
from labform.providers.masking import SENSITIVE

if TYPE_CHECKING:
    from labform.engine.report.cost import RunCost
    from labform.engine.report.model import RunView

HEARTBEAT = 30.0  # seconds of silence before a pipe is told a change is still going


def human_duration(seconds: float) -> str:
    """1m30s, 45s, 2h5m: how Terraform's "Still creating... [1m30s elapsed]" counts."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


# --- annotations ----------------------------------------------------------
def on_github() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _escape(text: str, prop: bool = False) -> str:
    """GitHub's escaping for workflow commands (data, and property values)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def annotation(message: str, location: SourceLocation | None = None, level: str = "error") -> str:
    where = ""
    if location is not None:
        where = f" file={_escape(location.file, True)},line={location.line},col={location.column}"
    return f"::{level}{where}::{_escape(message)}"


def without_location(error: ConfigError) -> str:
    """The message of a ConfigError without its "file:line:col: " prefix (the annotation carries it)."""
    text = str(error)
    prefix = f"{error.location}: " if error.location else ""
    return text.removeprefix(prefix)


def problems(error: Exception) -> list[Exception]:
    """Each problem an error reports: ConfigErrors gathers several, anything else is one."""
    return list(error.errors) if isinstance(error, ConfigErrors) else [error]


def error_annotations(error: Exception) -> list[str]:
    """One annotation per problem: each ConfigError at its line, anything else unplaced."""
    return [
        annotation(without_location(e), e.location) if isinstance(e, ConfigError) else annotation(str(e))
        for e in problems(error)
    ]


def diagnostic(
    problem: Exception | str, address: str | None = None, detail: str = "", severity: str = "error"
) -> dict[str, Any]:
    """One problem (an error, or what a warning says) as Terraform's diagnostic (``validate -json``,
    the ``-json`` stream): a ConfigError with the range of its place in a plan file; ``address``
    names the object it is about."""
    error = problem if isinstance(problem, ConfigError) else None
    summary = without_location(error) if error is not None else str(problem)
    found: dict[str, Any] = {"severity": severity, "summary": summary, "detail": detail}
    if address is not None:
        found["address"] = address
    if error is not None and error.location is not None:
        start = {"line": error.location.line, "column": error.location.column}
        found["range"] = {"filename": error.location.file, "start": start, "end": start}
    return found


# --- step summary ---------------------------------------------------------
def append_step_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY when the job has one; elsewhere do nothing."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip("\n") + "\n\n")


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: list[list[Any]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def plan_markdown(where: str, plan: Plan, drift: list[ResourceChange]) -> str:
    shown = [c for c in plan.changes if c.action != Action.NOOP]
    parts = [f"### labform plan `{where}`"]
    if drift:
        parts.append(
            "Changed outside labform:\n\n"
            + _table(["address", "what changed"], [[f"`{c.address}`", c.reason] for c in drift])
        )
    if plan.unresolved:
        held = [
            [f"`{u.address}`", u.since, u.why, f"`{resolve_commands(u.address)['created']}`"] for u in plan.unresolved
        ]
        parts.append(
            "**Outcome unknown: every apply refuses until each is resolved** "
            "(`--id ID` if it was made, `--not-created` if not):\n\n"
            + _table(["address", "since", "why", "resolve"], held)
        )
    if not shown:
        parts.append(NO_CHANGES)
    else:
        parts.append(f"**Plan:** {plan.counts_phrase()}.")
        rows = [[c.action.words.symbol.strip(), f"`{c.address}`", c.action.value, c.reason, c.note] for c in shown]
        parts.append(_table(["", "address", "action", "why", "note"], rows))
    if plan.checks:
        parts.append(_checks_table(plan.checks))
    return "\n\n".join(parts)


def _checks_table(checks: list[Check]) -> str:
    """Each check and its verdict: not changes, so apart from them."""
    return "#### Checks\n\n" + _table(
        ["check", "status", "why"], [[f"`{c.address}`", c.status.value, c.why] for c in checks]
    )


def apply_markdown(where: str, outcome: ApplyOutcome, views: Sequence[RunView] = ()) -> str:
    """The apply's Markdown: verdict, counts, every change's outcome, then the runs (``views``: as the
    report shows them: their cost, and the failed, flaky and quarantined tests listed below)."""
    from labform.engine.report.markdown import case_lists

    shown = {view.address: view for view in views}
    parts = [f"### labform {outcome.verb} `{where}`: {'failed' if outcome.status == 'incomplete' else outcome.status}"]
    parts.append(f"**Resources:** {outcome.counts()}.")
    if outcome.result is not None and outcome.result.recovered:
        recovered = ", ".join(f"`{a}`" for a in outcome.result.recovered)
        parts.append(f"Recovered from an interrupted apply: {recovered}")
    if outcome.changes:
        rows = [[f"`{c.address}`", c.change.action.value, c.result, c.detail] for c in outcome.changes]
        parts.append(_table(["address", "action", "result", "detail"], rows))
    run_rows = [
        [
            f"`{run.outcome.address}`",
            run.facts.devices,
            run.facts.passed,
            run.facts.failed,
            human_duration(run.seconds) if run.seconds is not None else None,
            shown[run.outcome.address].cost.cell() if run.outcome.address in shown else run.facts.credits,
            run.gate,
        ]
        for run in outcome.runs
    ]
    if run_rows:
        header = ["run", "devices", "passed", "failed", "duration", "credits", "gate"]
        parts.append("#### Runs\n\n" + _table(header, run_rows))
        listed = case_lists(shown[run.outcome.address] for run in outcome.runs if run.outcome.address in shown)
        if listed:
            parts.append(listed)
    if outcome.checks:
        parts.append(_checks_table(outcome.checks))
    return "\n\n".join(parts)


def failure_annotations(outcome: ApplyOutcome) -> list[str]:
    """An ``::error`` at the block of every failed change, then one for every failing check."""
    return [annotation(f"{c.address}: {c.detail}", c.location) for c in outcome.failed] + [
        annotation(f"check {c.address} failed: {c.why}") for c in outcome.failed_checks
    ]


# --- live reporting -------------------------------------------------------
@dataclass
class _Running:
    started: float
    action: Action
    last_line: float
    detail: str = ""  # the newest progress message, without its "run 5: " subject

    @property
    def doing(self) -> str:
        """``creating``, from the action's words."""
        return self.action.words.doing.lower() or "working"


class ChangeLog:
    """The reporter of an apply: prints events and, on a pipe, sends heartbeats.

        with ChangeLog(click.echo, heartbeat=30.0) as report:
            runner.apply(Workspace(..., report=report), ...)

    ``heartbeat=None`` (a terminal) prints events only. With ``as_json`` every line is a
    message of Terraform's machine-readable UI, the first the ``version`` message; ``planned``
    and ``finished`` add what the plan and the outcome say, and an error that ends the
    command inside the ``with`` becomes its ``diagnostic`` messages."""

    def __init__(
        self,
        echo: Callable[[str], None],
        as_json: bool = False,
        heartbeat: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.echo = echo
        self.as_json = as_json
        self.heartbeat = heartbeat
        self.clock = clock
        self._running: dict[str, _Running] = {}
        self._planned: dict[str, ResourceChange] = {}
        # The stream's first message, stamped when the command starts; sent before any other.
        self._opening = version_message(labform_version()) if as_json else None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, event: Event) -> None:
        with self._lock:
            now = self.clock()
            if self.as_json:
                self._send(self._messages(event, now))  # before tracking: a finished change is still running here
            else:
                self.echo(event.message)
            self._track(event, now)

    def _send(self, messages: list[dict[str, Any]]) -> None:
        """Print messages, one JSON object a line, the ``version`` message before the first."""
        if self._opening is not None:
            messages, self._opening = [self._opening, *messages], None
        for line in messages:
            self.echo(json.dumps(line, default=str))

    def _track(self, event: Event, now: float) -> None:
        address = event.address
        if address is None:
            return
        if event.kind == "change_started":
            self._running[address] = _Running(started=now, action=Action(event.data["action"]), last_line=now)
        elif event.kind in ("change_finished", "change_failed", "change_skipped"):
            self._running.pop(address, None)
        elif event.kind == "progress" and address in self._running:
            running = self._running[address]
            running.last_line = now
            running.detail = event.message.split(": ", 1)[-1]

    # --- -json: events as Terraform's messages ---
    def _messages(self, event: Event, now: float) -> list[dict[str, Any]]:
        if event.address is None:
            return [message("log", event.message)]
        address = event.address
        running = self._running.get(address)
        hook: dict[str, Any] = {"resource": resource_object(Address.parse(address))}
        action = Action(event.data["action"]) if "action" in event.data else running.action if running else None
        if action is not None:
            hook["action"] = ui_action(action)
        elapsed = round(now - running.started, 3) if running else 0.0
        if event.kind == "change_started":
            return [message("apply_start", event.message, hook={**hook, **self._id(address)})]
        if event.kind == "change_finished":
            remote_id = event.data.get("id")
            found = {"id_key": "id", "id_value": str(remote_id)} if remote_id else {}
            hook.update(found, elapsed_seconds=event.data.get("elapsed_seconds", elapsed))
            return [message("apply_complete", event.message, hook=hook)]
        if event.kind == "change_failed":
            noun = action.words.done if action else "Change"
            errored = f"{address}: {noun} errored after {human_duration(elapsed)}"
            problem = diagnostic(event.data.get("error", event.message), address)
            return [message("apply_errored", errored, hook={**hook, "elapsed_seconds": elapsed}), _said(problem)]
        if event.kind == "change_skipped":
            return [message("change_skipped", event.message, hook={**hook, "because": event.data.get("because")})]
        if event.kind == "recovered":
            return [message("change_recovered", event.message, hook=hook)]
        if event.kind == "progress" and running is not None:
            hook["elapsed_seconds"] = elapsed
            return [message("apply_progress", event.message, hook=hook, progress=event.message)]
        return [message("log", event.message, hook=hook)]

    def _id(self, address: str) -> dict[str, str]:
        """The object's id, as apply_start names it, when the plan knows it (an update, a delete)."""
        planned = self._planned.get(address)
        return {"id_key": "id", "id_value": planned.remote_id} if planned and planned.remote_id else {}

    def planned(self, plan: Plan, drift: list[ResourceChange]) -> None:
        """-json: the plan about to be applied, as Terraform streams it before an apply: drift, a
        warning per notice, a ``planned_change`` per change, then the plan's ``change_summary``."""
        if not self.as_json:
            return
        with self._lock:
            self._planned = {str(c.address): c for c in plan.changes}
            self._send(
                [
                    *(_drift_message(c) for c in drift),
                    *(_said(diagnostic(n.message, str(n.address), severity="warning")) for n in plan.notices),
                    *_planned_changes(plan),
                    _plan_summary(plan),
                ]
            )

    def finished(self, outcome: ApplyOutcome, costs: Mapping[str, RunCost] | None = None) -> None:
        """-json: how the apply ended: each run's results (``costs``: the credits each used, beside
        the plan's estimate), each check's verdict (a failing one also as an error diagnostic), the
        ``change_summary`` and, after an apply, the ``outputs``."""
        if not self.as_json:
            return
        costs = costs or {}
        runs = [_run_message(run, costs.get(run.outcome.address)) for run in outcome.runs]
        messages = [*runs, *_check_messages(outcome.checks)]
        summary = outcome.summary()
        counts = {key: summary.pop(key) for key in ("added", "changed", "adopted", "destroyed")}
        changes = {
            "add": counts["added"],
            "change": counts["changed"],
            "import": counts["adopted"],
            "remove": counts["destroyed"],
            "operation": "destroy" if outcome.verb == "destroy" else "apply",
        }
        messages.append(
            message("change_summary", outcome.headline(), changes=changes, status=outcome.status, **summary)
        )
        if outcome.outputs and outcome.verb != "destroy":  # after a destroy they name what is gone
            messages.append(message("outputs", f"Outputs: {len(outcome.outputs)}", outputs=_masked(outcome.outputs)))
        with self._lock:
            self._send(messages)

    # --- heartbeat on a pipe ---
    def __enter__(self) -> ChangeLog:
        if self.heartbeat:
            self._thread = threading.Thread(target=self._beat, name="labform-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, *rest: object) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        if self.as_json and isinstance(error, LabformError):  # the CLI still says it on stderr, and exits 1
            with self._lock:
                self._send([_said(diagnostic(e)) for e in problems(error)])

    def _beat(self) -> None:
        every = self.heartbeat or HEARTBEAT  # the thread starts only with a heartbeat set
        tick = min(1.0, every / 4)
        while not self._stopped.wait(tick):
            with self._lock:
                now = self.clock()
                for address, running in self._running.items():
                    if now - running.last_line >= every:
                        running.last_line = now
                        self._still_going(address, running, now)

    def _still_going(self, address: str, running: _Running, now: float) -> None:
        line = self.still_going(address, running, now)
        if not self.as_json:
            self.echo(line)
            return
        hook = {
            "resource": resource_object(Address.parse(address)),
            "action": ui_action(running.action),
            "elapsed_seconds": round(now - running.started, 3),
        }
        self._send([message("apply_progress", line, hook=hook, heartbeat=True)])

    @staticmethod
    def still_going(address: str, running: _Running, now: float) -> str:
        """``bitbar_run.nightly: Still waiting... [1m30s elapsed, RUNNING, device runs 3/5 finished]``:
        waiting once the cloud has reported progress, else still at the change itself."""
        verb = "waiting" if running.detail else running.doing
        detail = f", {running.detail}" if running.detail else ""
        return f"{address}: Still {verb}... [{human_duration(now - running.started)} elapsed{detail}]"


# --- -json: what the plan and the outcome say, as messages ------------------
def _said(problem: dict[str, Any]) -> dict[str, Any]:
    """A diagnostic as its message: ``Error: SUMMARY`` at level error, ``Warning: ...`` at warn."""
    warning = problem["severity"] == "warning"
    head, level = ("Warning", "warn") if warning else ("Error", "error")
    return message("diagnostic", f"{head}: {problem['summary']}", level, diagnostic=problem)


def _drift_message(change: ResourceChange) -> dict[str, Any]:
    action = "delete" if change.after is None else "update"
    text = f"{change.address}: Drift detected ({action})"
    return message("resource_drift", text, change={"resource": resource_object(change.address), "action": action})


def _planned_changes(plan: Plan) -> list[dict[str, Any]]:
    """A ``planned_change`` per change, as Terraform streams them: every action but a no-op, a no-op
    that a ``moved:`` entry carries as ``move``, and a ``removed:`` object let go of as ``remove``."""
    previous = {target: source for source, target in plan.moved}
    messages = []
    for change in plan.changes:
        moved_from = previous.get(change.address)
        if change.action == Action.NOOP and moved_from is None:
            continue
        action = "move" if change.action == Action.NOOP else ui_action(change.action)
        body: dict[str, Any] = {"resource": resource_object(change.address), "action": action}
        if moved_from is not None:
            body["previous_resource"] = resource_object(moved_from)
        if change.action == Action.ADOPT and change.remote_id:
            body["importing"] = {"id": change.remote_id}
        body.update({key: value for key, value in (("why", change.reason), ("note", change.note)) if value})
        messages.append(message("planned_change", f"{change.address}: Plan to {action}", change=body))
    for address in plan.forgotten:
        body = {"resource": resource_object(address), "action": "remove"}
        messages.append(message("planned_change", f"{address}: Plan to remove", change=body))
    return messages


def _plan_summary(plan: Plan) -> dict[str, Any]:
    counts = plan.counts()
    changes = {
        "add": counts["add"],
        "change": counts["change"],
        "import": counts["adopt"],
        "remove": counts["destroy"],
        "forget": counts["forget"],
        "operation": "plan",
    }
    return message("change_summary", f"Plan: {plan.counts_phrase()}.", changes=changes)


def _run_message(run: RunOutcome, cost: RunCost | None = None) -> dict[str, Any]:
    """labform's own: what a run's cloud reports of its results, the credits it used (the cloud's
    figure, or labform's price × devices × minutes) beside the plan's estimate, and its gate."""
    facts = run.facts
    credits = cost.credits if cost is not None else facts.credits
    said = [f"{facts.devices} devices" if facts.devices is not None else ""]
    said += [f"{facts.passed} passed" if facts.passed is not None else ""]
    said += [f"{facts.failed} failed" if facts.failed is not None else ""]
    said += [f"{facts.flaky} flaky" if facts.flaky else ""]
    said += [f"{credits:g} credits" if credits is not None else "", f"gate {run.gate}"]
    body = {
        "resource": resource_object(run.outcome.change.address),
        "devices": facts.devices,
        "passed": facts.passed,
        "failed": facts.failed,
        "flaky": facts.flaky,
        "credits": credits,
        "credits_basis": cost.basis if cost is not None else None,
        "estimate": cost.estimate if cost is not None else None,
        "finished": facts.finished,
        "gate": run.gate,
        "elapsed_seconds": None if run.seconds is None else round(run.seconds, 3),
    }
    return message("run_result", f"{run.outcome.address}: {', '.join(s for s in said if s)}", run=body)


def _check_messages(checks: list[Check]) -> list[dict[str, Any]]:
    """labform's own ``check_result`` per gate; a failing one is an error diagnostic too, as Terraform
    reports what fails an apply."""
    from labform.engine.render import check_hint  # the providers' registry, only when a check is reported

    messages = []
    for check in checks:
        failed = check.status == CheckStatus.FAIL
        body = {"resource": resource_object(check.address), "status": check.status.value, "reason": check.why or None}
        messages.append(message("check_result", check.line(), "error" if failed else "info", check=body))
        if failed:
            problem = diagnostic(f"check {check.address} failed: {check.why}", str(check.address), check_hint(check))
            messages.append(_said(problem))
    return messages


def _masked(outputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Outputs in Terraform's shape, a sensitive one's value as ``(sensitive)`` (Terraform would print it)."""
    return {name: {**shown, "value": SENSITIVE} if shown["sensitive"] else shown for name, shown in outputs.items()}
