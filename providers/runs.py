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
from typing import ClassVar, Literal
from xml.etree.ElementTree import Element

from pydantic import BaseModel, ConfigDict, Field

from providers.base import Arguments, Attrs, Context, ResourceType, RunFacts, Verdict, arg
from providers.errors import AppliedWithError
from providers.junit import missing_junit, write_junit
from providers.polling import STATUS_INTERVAL, Duration, WaitTimeout, wait_for


class WaitPolicy(BaseModel):
    """How long to wait for the cloud to finish, and how often to look."""

    model_config = ConfigDict(extra="forbid")
    timeout: Duration = Field(1800.0, description="Stop waiting after this long (e.g. 30m or 1h; a number is seconds).")
    poll: Duration = Field(
        10.0,
        description="Pause between status reads once the first quick ones are done (10s; a number is seconds); "
        "a long run is read less often: every 15s after 5 minutes, up to once a minute.",
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
        raise NotImplementedError

    def gate_failure(self, desired: Attrs, attrs: Attrs) -> str | None:
        return None

    def after_finish(self, ctx: Context, desired: Attrs, attrs: Attrs) -> None:
        """Extra work once finished (e.g. downloading artifacts)."""

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

    def pending(self, desired: Attrs, actual: Attrs) -> str | None:
        """A run started but not finished (state says so) is still a change: apply waits for it,
        and its gate is judged then. A finished run's missed gate is no change but a failing check
        (``verdict``). Retry attempts still pending after a kill will be changes too, never checks."""
        if not desired.get("wait"):
            return None
        if not actual.get("finished"):
            return "the run has not finished: apply waits for it (it is not started again)"
        return missing_junit(desired.get("junit"))

    def verdict(self, desired: Attrs, actual: Attrs) -> Verdict | None:
        """The gate judged afresh on the run's attributes (``gate_failure``), unknown until it finished."""
        if not desired.get("gate"):
            return None
        if not actual.get("finished"):
            return Verdict("unknown", "the run has not finished")
        failure = self.gate_failure(desired, actual)
        return Verdict("fail", f"run {actual.get('id')} missed its gate: {failure}") if failure else Verdict("pass")

    def settle(self, ctx: Context, desired: Attrs, attrs: Attrs) -> Attrs:
        """The second phase: wait until finished, write JUnit, fetch artifacts, judge the gate."""
        wait = desired.get("wait")
        if not wait:
            return attrs
        policy = WaitPolicy.model_validate(wait)
        try:
            final = wait_for(
                lambda: self.status(ctx, attrs),
                done=lambda current: current.finished,
                timeout=policy.timeout,
                poll=policy.poll,
                describe=lambda current: f"run {attrs['id']}: {current.text}",
                progress=ctx.progress,
                stop=ctx.stop,
                read_again_on_error=True,
            )
        except WaitTimeout as timeout:
            last: RunProgress = timeout.last
            if last.partial:  # the state and the message get the full picture
                last = self.progress(ctx, attrs)
            if timeout.interrupted:
                raise AppliedWithError(
                    self.cloud,
                    "wait for run",
                    f"run {attrs['id']} still going (last: {last.text}); interrupted, the next apply waits for it again",
                    {**attrs, **last.attrs},
                ) from None
            raise AppliedWithError(
                self.cloud,
                "wait for run",
                f"run {attrs['id']} did not finish within {policy.timeout:.0f}s (last: {last.text}); the next apply waits for it again",
                {**attrs, **last.attrs},
            ) from None
        if final.partial:
            final = self.progress(ctx, attrs)
            ctx.progress(f"run {attrs['id']}: {final.text}")
        attrs = {**attrs, **final.attrs, "finished": True}
        if desired.get("junit"):
            path = write_junit(Path(desired["junit"]), self.junit_suites(ctx, attrs), f"{self.type_name} {attrs['id']}")
            ctx.progress(f"run {attrs['id']}: wrote JUnit results to {path}")
        self.after_finish(ctx, desired, attrs)
        failure = self.gate_failure(desired, attrs)
        attrs["gate_failure"] = failure
        if failure:
            raise AppliedWithError(
                self.cloud,
                "gate",
                f"run {attrs['id']} missed its gate: {failure}",
                attrs,
            )
        return attrs

    def delete(self, ctx: Context, id: str, actual: Attrs) -> None:
        if not self.progress(ctx, {**actual, "id": id}).finished:
            self.stop(ctx, {**actual, "id": id})
        if actual.get("on_destroy") == "delete":
            self.remove(ctx, {**actual, "id": id})
