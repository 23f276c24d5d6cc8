"""perfecto_gate: judge a CI job's executions on every apply; it has no remote object.

Smart Reporting holds the results of tests a CI job ran elsewhere; the gate
reads them (every page, after processing if ``wait`` is set), writes them as
JUnit if asked, and fails the apply when they miss the bar: a pass rate below
``min_pass_rate`` (PASSED over all executions) or any execution in a status
``fail_on`` names. No executions at all, or a report the server cut short,
fails too: there is nothing to vouch for.

There is nothing on the cloud to create or to keep, so read() answers "gone"
every time: the engine then plans the gate as a create on every apply and it
is judged afresh, no engine rule needed. Destroy only forgets it. A missed
gate is still recorded (with its counts), so ``labform state show`` has them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from providers.base import Attrs, ResourceType, RunFacts, arg
from providers.errors import AppliedWithError
from providers.junit import Case, Suite, suite_element, write_junit
from providers.perfecto.client import CLOUD
from providers.perfecto.reports import ExecutionFilters, OneOrMore, execution_attrs, read_report, status_counts

# How an execution reads in JUnit: a failed test is a failure, a blocked one
# (it could not run) an error, an unknown outcome skipped. Keyed by status, which an execution may lack.
JUNIT_OUTCOMES: dict[str | None, str] = {"FAILED": "failure", "BLOCKED": "error", "UNKNOWN": "skipped"}
# A missed gate names this many executions (with their report links); the JUnit file has them all.
NAMED_FAILURES = 5


class GateArgs(ExecutionFilters):
    job_name: OneOrMore[str] = arg(description="The CI job whose executions are judged (more filters narrow them).")
    min_pass_rate: float | None = arg(
        None, ge=0, le=1, description="Share of the executions that must be PASSED, 0 to 1."
    )
    fail_on: list[Literal["FAILED", "BLOCKED", "UNKNOWN"]] | None = arg(
        None, description="Any execution in one of these statuses fails the gate."
    )
    junit: str | None = arg(
        None, local=True, description="Write the executions as JUnit XML to this path (one testcase each)."
    )


def _device(execution: Attrs) -> str:
    return ", ".join(
        " ".join(str(p[key]) for key in ("model", "browser_type", "os", "os_version") if p.get(key))
        for p in execution["platforms"]
    )


def _case(execution: Attrs) -> Case:
    device = _device(execution)
    report = f"report: {execution.get('report_url')}"
    case = Case(
        name=str(execution.get("name") or execution["id"]) + (f" [{device}]" if device else ""),
        time=(execution.get("duration_ms") or 0) / 1000,
        output=report,
    )
    outcome = JUNIT_OUTCOMES.get(execution.get("status"))
    reason = execution.get("message") or execution.get("failure_reason") or execution.get("status")
    if outcome == "failure":
        case.failure = f"{reason}\n{report}"
    elif outcome == "error":
        case.error = f"{reason}\n{report}"
    elif outcome == "skipped":
        case.skipped = True
    return case


def _started(executions: list[Attrs]) -> datetime | None:
    """When the first execution started (Perfecto gives milliseconds since the epoch): the suite's JUnit timestamp."""
    starts = [e["start_time"] for e in executions if isinstance(e.get("start_time"), int)]
    return datetime.fromtimestamp(min(starts) / 1000, UTC) if starts else None


def _gate_id(desired: Attrs) -> str:
    number = desired.get("job_number")
    return ",".join(desired["job_name"]) + (f"#{','.join(map(str, number))}" if number else "")


def _misses(desired: Attrs, attrs: Attrs, truncated: bool) -> list[str]:
    if truncated:
        return [
            f"the server let only the first {attrs['total']} executions be read; narrow the filters (job_number, a time window)"
        ]
    if not attrs["total"]:
        return ["no executions match"]
    misses = []
    rate = desired.get("min_pass_rate")
    if rate is not None and attrs["pass_rate"] < rate:
        misses.append(f"pass rate {attrs['pass_rate']:.1%} is below {rate:.1%}")
    forbidden = [
        f"{attrs['counts'][status]} {status}" for status in desired.get("fail_on") or () if attrs["counts"][status]
    ]
    if forbidden:
        named = [f"{f['name']} ({f['report_url']})" for f in attrs["failures"] if f["status"] in desired["fail_on"]]
        more = f" and {len(named) - NAMED_FAILURES} more" if len(named) > NAMED_FAILURES else ""
        misses.append(f"{', '.join(forbidden)}: {', '.join(named[:NAMED_FAILURES])}{more}")
    return misses


class Gate(ResourceType):
    """Judges a CI job's executions on every apply and fails it below the bar; nothing is created on the cloud."""

    type_name = "perfecto_gate"
    ephemeral = True
    Args = GateArgs
    computed = ("id", "total", "counts", "pass_rate", "failures", "processing_status")

    def check(self, desired):
        if desired.get("min_pass_rate") is None and not desired.get("fail_on"):
            return [("min_pass_rate", "set min_pass_rate or fail_on (or both): a gate needs a bar")]
        return []

    def read(self, ctx, id, prior):
        """Always gone: the gate is judged again on every apply."""
        return None

    def create(self, ctx, desired):
        report = read_report(ctx, desired)
        executions = [execution_attrs(e) for e in report.executions]
        counts = status_counts(executions)
        attrs: Attrs = {
            "id": _gate_id(desired),
            "total": len(executions),
            "counts": counts,
            "pass_rate": counts["PASSED"] / len(executions) if executions else 0.0,
            "failures": [
                {"id": e["id"], "name": e.get("name"), "status": e["status"], "report_url": e.get("report_url")}
                for e in executions
                if e.get("status") != "PASSED"
            ],
            "processing_status": report.processing_status,
        }
        ctx.progress(
            f"perfecto: {attrs['id']}: {len(executions)} executions, "
            + ", ".join(f"{n} {s}" for s, n in counts.items())
        )
        if desired.get("junit"):
            suite = Suite(
                attrs["id"],
                [_case(e) for e in executions],
                {"processingStatus": report.processing_status},
                _started(executions),
            )
            path = write_junit(Path(desired["junit"]), [suite_element(suite)], f"{self.type_name} {attrs['id']}")
            ctx.progress(f"perfecto: {attrs['id']}: wrote JUnit results to {path}")
        misses = _misses(desired, attrs, report.truncated)
        if misses:
            raise AppliedWithError(CLOUD, "gate", f"{attrs['id']} missed its gate: {'; '.join(misses)}", attrs)
        return attrs

    def facts(self, attrs: Attrs) -> RunFacts:
        """The executions judged, passed and failed by status; whether the gate held, judged again from
        what state recorded (a report cut short is never recorded as passing: it fails its apply)."""
        counts = attrs["counts"]
        return RunFacts(passed=counts["PASSED"], failed=counts["FAILED"], gate=not _misses(attrs, attrs, False))

    def delete(self, ctx, id, actual):
        """Nothing on the cloud: destroying a gate only forgets it."""
