"""Test runs as resources, the same way on every cloud.

A run is created once per distinct ``triggers`` list (file hashes, a config
hash): re-applying the same plan does not start it again, a new trigger
replaces it. It is recorded the moment the cloud gives its id (``ctx.record``).

Waiting, JUnit, artifacts and the gate are a second phase, ``settle``, that
the next apply resumes whenever it did not complete (``pending``): a run still
going (a wait that timed out, a killed apply) is a change, waited on again. A
finished run's gate is a check (``verdict``), judged again on every plan from
what the cloud reports: a missed gate fails every apply without being a
change — red stays red until the triggers change or ``--replace`` names the run.

While waiting, a run is read with ``status``: by default its full
``progress``, through the cloud's status board (one per command, so every
wait on one cloud keeps to its minimum interval, ``status_interval``). A cloud
whose API answers several runs with one read (Bitbar lists a project's runs)
or has a cheaper read than the full result overrides ``status`` to answer a
``partial`` progress; the full one is then read once, when it finished.

Each run type also answers ``facts`` (the CI summary's devices, passed and
failed) from its own recorded attributes, with :func:`per_device` for results
kept per device and :func:`judged` for what this flow records of every run.

**Retries.** A cloud that reports per test case (``cases``) gets one canonical
record of the run (providers/run_record.py), and with ``retry: {attempts: N,
only: ...}`` re-runs the smallest unit it can select that covers the failures
(``rerun``; ``RetryPolicy.forms`` lists what a cloud can do, anything else is a
validate error at ``retry.only``). Every attempt is recorded inside the run's
own state entry (``attempts``), each the moment the cloud answers its start, so
a killed apply resumes the attempt it was on and never starts one twice; an
attempt still owed is a change in the plan ("resume attempt 2"). The gate
counts each test once, by its last attempt; a test that failed and then passed
is flaky (``gate.flaky: allow | fail``), and ``gate.quarantine`` lists test ids
whose failure is reported but does not fail the gate.

**Shards.** ``shards: N`` (or ``shard_time: T``) splits a suite into balanced
shards over the units the cloud can start apart (``shard_units``; a type that
cannot says why in ``cannot_shard``, a validate error at ``shards``). The engine
splits them by recorded durations when it plans the run's create and passes the
split as ``shard_plan`` (``{"shards": [{"units": [...], "expected_seconds": s}]}``);
the run's ``start`` starts a part per shard, each recorded the moment the cloud
answers it (``ctx.record``, with ``starting`` set until all are, then ``shard_runs``
listing them): an apply killed in between calls ``start`` again, which starts
only the shards still missing (``start_cut_off``).

A cloud implements five small hooks; the flow lives here once::

    class BitbarRun(RunResource):
        def start(self, ctx, desired) -> Attrs: ...
        def progress(self, ctx, attrs) -> RunProgress: ...
        def junit_suites(self, ctx, attrs) -> list[Element]: ...
        def gate_failure(self, desired, attrs) -> str | None: ...
        def remove(self, ctx, attrs) -> None: ...
        def facts(self, attrs) -> RunFacts: ...
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal
from xml.etree.ElementTree import Element

from pydantic import BaseModel, ConfigDict, Field, field_validator

from labform.providers.base import Arguments, Attrs, Context, ResourceType, RunFacts, Verdict, arg, known
from labform.providers.errors import AppliedWithError
from labform.providers.junit import missing_junit, write_junit
from labform.providers.polling import STATUS_INTERVAL, Duration, WaitTimeout, wait_for
from labform.providers.run_record import CaseResult, RunRecord, UnitOf

# The most attempts a retry may ask for (the first included): beyond it a suite is broken, not flaky.
MAX_ATTEMPTS = 5
# The most shards a run may be split into: each is a run (or campaign) of its own on the cloud.
MAX_SHARDS = 50
RetryForm = Literal["failed_tests", "failed_devices", "all"]
# Keeps what an attempt has started so far in state (RunResource.start_attempt).
Saver = Callable[[Attrs], None]


class WaitPolicy(BaseModel):
    """How long to wait for the cloud to finish, and how often to look."""

    model_config = ConfigDict(extra="forbid")
    timeout: Duration = Field(1800.0, description="Stop waiting after this long (e.g. 30m or 1h; a number is seconds).")
    poll: Duration = Field(
        10.0,
        description="Pause between status reads once the first quick ones are done (10s; a number is seconds); "
        "a long run is read less often: every 15s after 5 minutes, up to once a minute.",
    )


class RetryPolicy(BaseModel):
    """Attempts in total and what each re-run repeats; a cloud's subclass says which forms it can do."""

    model_config = ConfigDict(extra="forbid")
    # Each form the cloud can select, and what it re-runs there (for messages); none: no retries here.
    forms: ClassVar[dict[str, str]] = {}
    cloud: ClassVar[str] = "this cloud"

    attempts: int = Field(
        ge=1, le=MAX_ATTEMPTS, description=f"Attempts in total, the first included (at most {MAX_ATTEMPTS})."
    )
    only: RetryForm = Field(
        "failed_tests",
        description="What a re-run repeats: failed_tests, failed_devices, or all (the whole run); "
        "each cloud re-runs the smallest unit it can select that covers them.",
    )

    @field_validator("only")
    @classmethod
    def _the_cloud_can(cls, value: str) -> str:
        if value not in cls.forms:
            can = "; ".join(f"{form} (re-runs {unit})" for form, unit in cls.forms.items()) or "none yet"
            raise ValueError(f"{cls.cloud} cannot re-run {value}; the forms it can: {can}")
        return value


class TestGate(BaseModel):
    """What a gate reads from a run's record of test cases, on every cloud that reports them."""

    model_config = ConfigDict(extra="forbid")
    min_pass_rate: float | None = Field(
        None, ge=0, le=1, description="Share of test cases (× devices) that must pass, each by its last attempt."
    )
    over: Literal["tests", "devices"] = Field(
        "tests", description="What min_pass_rate counts: test cases × devices, or devices (all their tests passed)."
    )
    flaky: Literal["allow", "fail"] = Field(
        "allow", description="A test that failed and then passed on a retry: allowed (reported), or a failure."
    )
    quarantine: list[str] = Field(
        default_factory=list,
        description="Test ids (JUnit classname.name) whose failure is reported but does not fail the gate.",
    )


class RunArguments(Arguments):
    """Arguments every run resource has; a cloud's model adds its own and its ``gate``."""

    triggers: list[str] = arg(
        default_factory=list, force_new=True, local=True, description="A new run starts only when these values change."
    )
    wait: WaitPolicy | None = arg(None, local=True, description="Block until the run finishes.")
    junit: str | None = arg(None, local=True, description="Write the results as JUnit XML to this path.")
    on_destroy: Literal["keep", "delete"] = arg(
        "keep", local=True, description="Keep the run's history on the cloud, or delete it."
    )
    retry: RetryPolicy | None = arg(
        None, local=True, description="Re-run what failed, up to attempts in total (needs wait)."
    )
    shards: int | None = arg(
        None,
        force_new=True,
        ge=1,
        le=MAX_SHARDS,
        description="Split the suite into this many shards balanced by recorded durations, where the cloud "
        "can start part of a suite (at most this many with shard_time).",
    )
    shard_time: Duration | None = arg(
        None,
        force_new=True,
        gt=0,
        description="As many shards as it takes for each to last about this long (e.g. 5m), by recorded "
        "durations (a unit never run counts as 2m).",
    )


def shard_field(desired: Attrs) -> str | None:
    """The argument a block asks for shards by (``shards``, else ``shard_time``), or None without them:
    where a problem with its shards is shown."""
    return next((name for name in ("shards", "shard_time") if desired.get(name) is not None), None)


@dataclass
class RunProgress:
    finished: bool
    text: str
    attrs: Attrs
    # Read from a status listing rather than in full: the full progress is read once finished.
    partial: bool = False


def per_device(results: list[Attrs] | None, passed: Callable[[Attrs], int], failed: Callable[[Attrs], int]) -> RunFacts:
    """Counts from a run's per-device (or per-test) results: one device each, ``passed`` and ``failed``
    of each summed; all unknown while no results are recorded (a run not waited on)."""
    if results is None:
        return RunFacts()
    return RunFacts(
        devices=len(results), passed=sum(passed(r) for r in results), failed=sum(failed(r) for r in results)
    )


def recorded(attrs: Attrs) -> RunFacts | None:
    """Counts from the run's canonical record, where it has one: devices, and test cases each
    counted once by its last attempt (flaky ones among the passed)."""
    if attrs.get("record") is None:
        return None
    counts = RunRecord.from_json(attrs["record"]).counts()
    return RunFacts(devices=counts.devices, passed=counts.passed, failed=counts.failed, flaky=counts.flaky)


def record_gate_failure(gate: dict[str, Any], record: RunRecord) -> str | None:
    """What a :class:`TestGate` finds wrong with the record, or None; quarantined tests are named
    either way, so a reader sees what was not counted."""
    quarantine = gate.get("quarantine") or []
    counts = record.counts(quarantine)
    problems = []
    rate = gate.get("min_pass_rate")
    if rate is not None:
        if gate.get("over") == "devices":
            share = counts.devices_passed / counts.devices if counts.devices else 0.0
            if share < rate:
                problems.append(
                    f"devices {counts.devices_passed}/{counts.devices} passed every test "
                    f"(pass rate {share:.1%}, below {rate:.1%})"
                )
        else:
            share = counts.passed / counts.tests if counts.tests else 0.0
            if share < rate:
                problems.append(
                    f"tests {counts.passed}/{counts.tests} passed (pass rate {share:.1%}, below {rate:.1%})"
                )
    if gate.get("flaky") == "fail" and counts.flaky:
        flaky = [f"{c.id} on {c.device}" for c in record.flaky_cases() if c.id not in quarantine]
        problems.append(f"{counts.flaky} flaky (gate.flaky: fail): {', '.join(flaky)}")
    if problems and quarantine:
        shown = [f"{c.id} on {c.device} ({c.outcome})" for c in record.quarantined(quarantine)]
        problems.append(f"quarantined, not counted: {', '.join(shown) or 'none ran'}")
    return "; ".join(problems) or None


def judged(attrs: Attrs, counts: RunFacts) -> RunFacts:
    """``counts`` with what ``settle`` records of every run: whether it finished (unknown when not
    waited on) and, when it has a gate, whether it met it."""
    finished = attrs.get("finished")
    gate = not attrs.get("gate_failure") if attrs.get("gate") else None
    return replace(counts, finished=finished if isinstance(finished, bool) else None, gate=gate)


class RunResource(ResourceType):
    cloud: ClassVar[str]
    Args: ClassVar[type[RunArguments]]
    hint_imports = False
    # The least time between two status reads of this cloud, whichever runs they are for.
    status_interval: ClassVar[float] = STATUS_INTERVAL
    # The gate's fields the run's record judges (TestGate's); None: all of them. A cloud whose own
    # fields share a name with them (WeTest's min_pass_rate counts devices or cases) names fewer.
    record_gate_fields: ClassVar[tuple[str, ...] | None] = None
    # Why this cloud's runs cannot be sharded (a validate error at ``shards``); None: they can (``shard_units``).
    cannot_shard: ClassVar[str | None] = "its runs cannot start part of a suite"

    # --- hooks ----------------------------------------------------------
    def start(self, ctx: Context, desired: Attrs) -> Attrs:
        raise NotImplementedError

    def progress(self, ctx: Context, attrs: Attrs) -> RunProgress:
        raise NotImplementedError

    def status(self, ctx: Context, attrs: Attrs) -> RunProgress:
        """The run's progress while waiting; its full ``progress`` unless a cloud reads less (see above)."""
        id = str(attrs["id"])
        read = ctx.statuses.read(
            (self.type_name, id), id, lambda ids: {id: self.progress(ctx, attrs)}, self.status_interval, ctx.stop
        )
        return read or self.progress(ctx, attrs)  # None: the read did not list ``id``; read it in full

    def junit_suites(self, ctx: Context, attrs: Attrs) -> list[Element]:
        """From the run's record where it has one (every attempt inside its testcase); a cloud
        without a record writes its own."""
        if attrs.get("record") is None:
            raise NotImplementedError
        return RunRecord.from_json(attrs["record"]).junit_suites({"run_id": str(attrs["id"])})

    def gate_failure(self, desired: Attrs, attrs: Attrs) -> str | None:
        return None

    def cases(self, ctx: Context, attrs: Attrs, attempt: Attrs) -> list[CaseResult] | None:
        """Each test case of a finished attempt (``attrs`` as its progress read them), or None where
        the cloud reports no test cases (the run then has no record and no retries)."""
        return None

    def rerun(self, ctx: Context, desired: Attrs, attrs: Attrs, units: list[str], number: int) -> Attrs:
        """Start attempt ``number`` over ``units`` (of the record: what the cloud can select); the
        attempt's attributes (its ``id``) as soon as the cloud answers."""
        raise NotImplementedError

    def start_attempt(self, ctx: Context, desired: Attrs, attrs: Attrs, attempt: Attrs, save: Saver) -> Attrs:
        """Start ``attempt`` (its ``number`` and ``units``); by default one call, ``rerun``. A cloud
        that starts an attempt in several calls (Bitbar: a run per class) passes what each started
        to ``save`` at once, so state holds it; called again on an attempt still ``starting`` (an
        apply killed between two calls), it starts only what is missing."""
        return self.rerun(ctx, desired, attrs, attempt["units"], attempt["number"])

    def retry_unit(self, desired: Attrs) -> UnitOf | None:
        """How a case is re-run, where not by the unit it was recorded under (see RunRecord.failed_units)."""
        return None

    def fold_attempt(self, attrs: Attrs, attempt: Attrs) -> Attrs:
        """The run's attributes once a later attempt finished (``attempt["progress"]`` holds what it
        read): by default unchanged, the record says the rest."""
        return attrs

    def restart(self, ctx: Context, desired: Attrs, attrs: Attrs) -> Attrs:
        """Carry out a start cut off between its calls (``start_cut_off``; ``attrs``: what state holds):
        by default ``start`` again, which finds what started by name and starts the rest."""
        return self.start(ctx, desired)

    def advance(self, ctx: Context, desired: Attrs, attrs: Attrs, read: Attrs) -> Attrs | None:
        """While the first attempt is waited on: start what starts only once an earlier part finished
        (a Bitbar shard's next class), recording it at once. ``attrs``: what is started (as state holds
        it), ``read``: the progress just read, which may predate the last start. The attributes with
        what started, or None when nothing did."""
        return None

    def after_finish(self, ctx: Context, desired: Attrs, attrs: Attrs) -> None:
        """Extra work once finished (e.g. downloading artifacts)."""

    def unavailable(self, attrs: Attrs) -> str | None:
        """What of a finished run the cloud could not do for want of devices (or queue, or quota),
        where it says so: the run is then never a pass, gate or not (a named error, every apply)."""
        return None

    def stop(self, ctx: Context, attrs: Attrs) -> None:
        """Cancel a run still going, where the cloud can."""

    def update_remote(self, ctx: Context, id: str, desired: Attrs, actual: Attrs) -> Attrs:
        """Change what the cloud lets change in place (e.g. a name); most runs have nothing."""
        return {}

    def remove(self, ctx: Context, attrs: Attrs) -> None:
        raise NotImplementedError

    def facts(self, attrs: Attrs) -> RunFacts:
        """Every run is one: whether it finished and met its gate; a cloud adds its counts."""
        return judged(attrs, RunFacts())

    # --- the flow -------------------------------------------------------
    def marker(self, ctx: Context, desired: Attrs) -> str:
        """The name labform gives a run the plan leaves unnamed, derived from its address and
        triggers: how a start whose answer was lost, or an apply killed after it, finds the run again."""
        digest = hashlib.sha256(json.dumps([ctx.address, desired.get("triggers", [])]).encode()).hexdigest()[:12]
        return f"labform-{digest}"

    def check(self, desired: Attrs) -> list[tuple[str, str]]:
        if desired.get("gate") and not desired.get("wait"):
            return [("gate", "a gate needs 'wait' (the result is only known once the run finished)")]
        if desired.get("retry") and not desired.get("wait"):
            return [("retry", "a retry needs 'wait' (what failed is only known once the run finished)")]
        return self._shard_problems(desired)

    def _shard_problems(self, desired: Attrs) -> list[tuple[str, str]]:
        """``shards``/``shard_time`` where the cloud cannot shard, or over units not named literally."""
        field = shard_field(desired)
        if field is None:
            return []
        if self.cannot_shard is not None:
            return [(field, f"{self.cloud} cannot shard a run: {self.cannot_shard}")]
        if not known(self.shard_units(desired)):
            return [(field, "a run's units must be named literally to be sharded (one is named by an expression)")]
        return []

    def create(self, ctx: Context, desired: Attrs) -> Attrs:
        attrs = self.start(ctx, desired)
        ctx.record(attrs)
        return self.settle(ctx, desired, attrs)

    def update(self, ctx: Context, id: str, desired: Attrs, actual: Attrs) -> Attrs:
        """Local settings (wait, junit, gate) only need recording; the run is not started again,
        but an unfinished second phase is resumed."""
        attrs = {**actual, **desired, **self.update_remote(ctx, id, desired, actual), "id": id}
        return self.settle(ctx, desired, attrs)

    @staticmethod
    def start_cut_off(desired: Attrs, attrs: Attrs) -> bool:
        """A sharded start cut off between two of its calls (a shard each): recorded as ``starting``,
        or found again by its first part's name with no ``shard_runs`` yet (its answer lost)."""
        return bool(attrs.get("starting")) or bool(desired.get("shard_plan") and not attrs.get("shard_runs"))

    def pending(self, desired: Attrs, actual: Attrs) -> str | None:
        """A run started but not finished (state says so) is still a change: apply waits for it,
        and its gate is judged then. A finished run's missed gate is no change but a failing check
        (``verdict``). A retry attempt still owed (started and unfinished, or not started yet) is a
        change too ("resume attempt 2"), never a check."""
        if self.start_cut_off(desired, actual):
            return "the run was partly started: apply starts its missing shards (what started is not started again)"
        if not desired.get("wait"):
            return None
        attempts = actual.get("attempts") or []
        if attempts and attempts[-1].get("starting"):
            number = attempts[-1]["number"]
            return f"attempt {number} was partly started: apply starts the rest (resume attempt {number}; what started is not started again)"
        if attempts and not attempts[-1].get("finished"):
            number = attempts[-1]["number"]
            return f"attempt {number} has not finished: apply waits for it (resume attempt {number}; it is not started again)"
        if not actual.get("finished"):
            return "the run has not finished: apply waits for it (it is not started again)"
        units = self._rerun_units(desired, actual)
        if units:
            number = len(attempts) + 1
            return f"{len(units)} failed unit(s) to re-run: resume attempt {number} of {desired['retry']['attempts']}"
        return missing_junit(desired.get("junit"))

    def verdict(self, desired: Attrs, actual: Attrs) -> Verdict | None:
        """The gate judged afresh on the run's attributes (``gate_failure``), unknown until it finished."""
        unavailable = self.unavailable(actual) if actual.get("finished") else None
        if unavailable:
            return Verdict("fail", f"run {actual.get('id')}: devices unavailable: {unavailable}")
        if not desired.get("gate"):
            return None
        if not actual.get("finished"):
            return Verdict("unknown", "the run has not finished")
        failure = self.gate_failures(desired, actual)
        return Verdict("fail", f"run {actual.get('id')} missed its gate: {failure}") if failure else Verdict("pass")

    def gate_failures(self, desired: Attrs, attrs: Attrs) -> str | None:
        """The cloud's own gate (``gate_failure``) and, where the run has a record, what a
        :class:`TestGate` reads from it."""
        found = [self.gate_failure(desired, attrs)]
        gate = desired.get("gate")
        if gate and attrs.get("record") is not None:
            fields = self.record_gate_fields
            bars = gate if fields is None else {k: v for k, v in gate.items() if k in fields}
            found.append(record_gate_failure(bars, RunRecord.from_json(attrs["record"])))
        return "; ".join(f for f in found if f) or None

    def _rerun_units(self, desired: Attrs, attrs: Attrs) -> list[str]:
        """What the next attempt re-runs: nothing without retries, once they are spent, or when all passed."""
        retry = desired.get("retry")
        if not retry or attrs.get("record") is None:
            return []
        attempts = attrs.get("attempts") or [{"number": 1}]
        if len(attempts) >= retry["attempts"]:
            return []
        record = RunRecord.from_json(attrs["record"])
        unit_of = self.retry_unit(desired)
        failed = record.failed_units((desired.get("gate") or {}).get("quarantine") or [], unit_of)
        if not failed:
            return []
        return record.units(unit_of) if retry.get("only") == "all" else failed

    def settle(self, ctx: Context, desired: Attrs, attrs: Attrs) -> Attrs:
        """The second phase: wait until finished (each attempt, with retries), write JUnit, fetch
        artifacts, judge the gate. A start cut off between its calls is carried out first."""
        if self.start_cut_off(desired, attrs):
            attrs = {**attrs, **self.restart(ctx, desired, attrs)}
            attrs.pop("starting", None)
            ctx.record(attrs)
        wait = desired.get("wait")
        if not wait:
            return attrs
        policy = WaitPolicy.model_validate(wait)
        attempts = [dict(a) for a in attrs.get("attempts") or [{"number": 1, "id": attrs["id"]}]]
        while True:
            current = attempts[-1]
            if current.get("starting"):
                attrs = self._start_attempt(ctx, desired, attrs, attempts, current)
            if not current.get("finished"):
                attrs = self._finish_attempt(ctx, desired, policy, attrs, attempts)
            units = self._rerun_units(desired, attrs)
            if not units:
                break
            number = len(attempts) + 1
            ctx.progress(
                f"run {attrs['id']}: attempt {number} of {desired['retry']['attempts']} re-runs "
                f"{len(units)} failed unit(s) ({desired['retry']['only']})"
            )
            attrs = self._start_attempt(ctx, desired, attrs, attempts, {"number": number, "units": units})
        attrs = {**attrs, "finished": True}
        if desired.get("junit"):
            path = write_junit(Path(desired["junit"]), self.junit_suites(ctx, attrs), f"{self.type_name} {attrs['id']}")
            ctx.progress(f"run {attrs['id']}: wrote JUnit results to {path}")
        self.after_finish(ctx, desired, attrs)
        unavailable = self.unavailable(attrs)
        failure = self.gate_failures(desired, attrs)
        attrs["gate_failure"] = "; ".join(f for f in (unavailable, failure) if f) or None
        if unavailable:
            raise AppliedWithError(self.cloud, "devices unavailable", f"run {attrs['id']}: {unavailable}", attrs)
        if failure:
            raise AppliedWithError(
                self.cloud,
                "gate",
                f"run {attrs['id']} missed its gate: {failure}",
                attrs,
            )
        return attrs

    def _start_attempt(
        self, ctx: Context, desired: Attrs, attrs: Attrs, attempts: list[Attrs], attempt: Attrs
    ) -> Attrs:
        """Start ``attempt`` (or the rest of it), recording in the run's state entry what the cloud
        answered the moment it does: the attempt joins ``attempts`` at its first start."""

        def keep(started: Attrs, starting: bool) -> None:
            attempt.update(started, starting=starting, finished=False)
            if not starting:
                del attempt["starting"]
            if attempt is not attempts[-1]:
                attempts.append(attempt)
            ctx.record({**attrs, "attempts": attempts})

        keep(self.start_attempt(ctx, desired, attrs, attempt, lambda started: keep(started, True)), False)
        return {**attrs, "attempts": attempts}

    def _finish_attempt(
        self, ctx: Context, desired: Attrs, policy: WaitPolicy, attrs: Attrs, attempts: list[Attrs]
    ) -> Attrs:
        """Wait for the last of ``attempts``, then fold its test cases into the run's record."""
        current = attempts[-1]
        first = current["number"] == 1
        # A later attempt is read on its own: not through the first attempt's shards.
        later = {k: v for k, v in attrs.items() if k != "shard_runs"}
        view = attrs if first else {**later, **{k: v for k, v in current.items() if k not in ("number", "finished")}}
        final = self._wait(ctx, desired, policy, view, attrs)
        if first:
            attrs = {**attrs, **final.attrs}
        else:
            current["progress"] = final.attrs
        cases = self.cases(ctx, {**view, **final.attrs}, current)
        if cases is None:
            return attrs
        record = RunRecord.from_json(attrs.get("record"))
        record.add(current["number"], cases)
        current["finished"] = True
        attrs = {**attrs, "attempts": attempts, "record": record.to_json()}
        if not first:
            attrs = self.fold_attempt(attrs, current)
        return attrs

    def _wait(self, ctx: Context, desired: Attrs, policy: WaitPolicy, view: Attrs, attrs: Attrs) -> RunProgress:
        """The attempt ``view`` followed until finished (the first one advanced as it goes); a timeout
        or an interrupt keeps ``attrs`` (with what was last read) in state, for the next apply to wait
        on again."""

        def read() -> RunProgress:
            # A status listing read may be older than a retry of the same run: "finished" is
            # taken from the full progress only.
            current = self.status(ctx, view)
            current = self.progress(ctx, view) if current.partial and current.finished else current
            moved = self.advance(ctx, desired, view, current.attrs) if view is attrs else None
            if moved is None:
                return current
            view.update(moved)
            return self.progress(ctx, view)

        try:
            final = wait_for(
                read,
                done=lambda current: current.finished,
                timeout=policy.timeout,
                poll=policy.poll,
                describe=lambda current: f"run {view['id']}: {current.text}",
                progress=ctx.progress,
                stop=ctx.stop,
                read_again_on_error=True,
            )
        except WaitTimeout as timeout:
            last: RunProgress = timeout.last
            if last.partial:  # the state and the message get the full picture
                last = self.progress(ctx, view)
            kept = {**attrs, **last.attrs} if view is attrs else attrs
            if timeout.interrupted:
                raise AppliedWithError(
                    self.cloud,
                    "wait for run",
                    f"run {view['id']} still going (last: {last.text}); interrupted, the next apply waits for it again",
                    kept,
                ) from None
            raise AppliedWithError(
                self.cloud,
                "wait for run",
                f"run {view['id']} did not finish within {policy.timeout:.0f}s (last: {last.text}); the next apply waits for it again",
                kept,
            ) from None
        return final

    def delete(self, ctx: Context, id: str, actual: Attrs) -> None:
        if not self.progress(ctx, {**actual, "id": id}).finished:
            self.stop(ctx, {**actual, "id": id})
        if actual.get("on_destroy") == "delete":
            self.remove(ctx, {**actual, "id": id})
