"""What a CI system shows besides the log, and a log that never looks hung.

- ``GITHUB_STEP_SUMMARY`` set: plan and apply append a Markdown summary to that
  file (a table of changes; for runs: devices, passed/failed, duration,
  credits where known, the gate's verdict; every check with its status),
  shown on the workflow run's page.
  What a run's attributes say of its result is asked of its resource type
  (``facts``): nothing here knows how any cloud records results.
- ``GITHUB_ACTIONS=true``: errors that have a place in a plan file become
  ``::error file=…,line=…::`` workflow commands, which GitHub shows as
  annotations on that line of the pull request.
- ``ChangeLog`` is the one reporter of an apply: it prints every event (a line
  for people, or one JSON object per line for ``-json``),
  and on a pipe, where no progress bar can show that work goes on, prints a
  heartbeat for a change silent for ``HEARTBEAT`` seconds — at most one per
  change that often — so throttling lives here and nowhere else.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.changes import NO_CHANGES, Action, Check, Plan, ResourceChange, resolve_commands
from engine.errors import ConfigError, ConfigErrors, SourceLocation
from engine.events import Event
from engine.outcomes import ApplyOutcome

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


def error_annotations(error: Exception) -> list[str]:
    """One annotation per problem: each ConfigError at its line, anything else unplaced."""
    errors = error.errors if isinstance(error, ConfigErrors) else [error]
    return [
        annotation(without_location(e), e.location) if isinstance(e, ConfigError) else annotation(str(e))
        for e in errors
    ]


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


def apply_markdown(where: str, outcome: ApplyOutcome) -> str:
    """The apply's Markdown: verdict, counts, every change's outcome, then the runs."""
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
            run.facts.credits,
            run.gate,
        ]
        for run in outcome.runs
    ]
    if run_rows:
        header = ["run", "devices", "passed", "failed", "duration", "credits", "gate"]
        parts.append("#### Runs\n\n" + _table(header, run_rows))
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
    doing: str  # "creating", from the action's words
    last_line: float
    detail: str = ""  # the newest progress message, without its "run 5: " subject


class ChangeLog:
    """The reporter of an apply: prints events and, on a pipe, sends heartbeats.

        with ChangeLog(click.echo, heartbeat=30.0) as report:
            runner.apply(Workspace(..., report=report), ...)

    ``heartbeat=None`` (a terminal, or ``-json``) prints events only."""

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
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, event: Event) -> None:
        with self._lock:
            now = self.clock()
            self._track(event, now)
            self.echo(json.dumps(event.to_json(), default=str) if self.as_json else event.message)

    def emit(self, kind: str, message: str, address: str | None = None, **data: Any) -> None:
        """An event the CLI itself adds to the stream (the planned changes, the final summary)."""
        self(Event(kind, message, address, data))

    def _track(self, event: Event, now: float) -> None:
        address = event.address
        if address is None:
            return
        if event.kind == "change_started":
            doing = Action(event.data.get("action", "create")).words.doing.lower() or "working"
            self._running[address] = _Running(started=now, doing=doing, last_line=now)
        elif event.kind in ("change_finished", "change_failed", "change_skipped"):
            self._running.pop(address, None)
        elif event.kind == "progress" and address in self._running:
            running = self._running[address]
            running.last_line = now
            running.detail = event.message.split(": ", 1)[-1]

    # --- heartbeat on a pipe ---
    def __enter__(self) -> ChangeLog:
        if self.heartbeat and not self.as_json:
            self._thread = threading.Thread(target=self._beat, name="labform-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        every = self.heartbeat or HEARTBEAT  # the thread starts only with a heartbeat set
        tick = min(1.0, every / 4)
        while not self._stopped.wait(tick):
            with self._lock:
                now = self.clock()
                for address, running in self._running.items():
                    if now - running.last_line >= every:
                        running.last_line = now
                        self.echo(self.still_going(address, running, now))

    @staticmethod
    def still_going(address: str, running: _Running, now: float) -> str:
        """``bitbar_run.nightly: Still waiting... [1m30s elapsed, RUNNING, device runs 3/5 finished]``:
        waiting once the cloud has reported progress, else still at the change itself."""
        verb = "waiting" if running.detail else running.doing
        detail = f", {running.detail}" if running.detail else ""
        return f"{address}: Still {verb}... [{human_duration(now - running.started)} elapsed{detail}]"
