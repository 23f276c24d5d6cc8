"""perfecto_gate: judge a CI job's executions; it has no remote object of its own.

Smart Reporting holds the results of tests a CI job ran elsewhere; the gate
reads them (every page, after processing if ``wait`` is set), writes them as
JUnit if asked, and fails the apply when they miss the bar: a pass rate below
``min_pass_rate`` (PASSED over all executions) or any execution in a status
``fail_on`` names. No executions at all, or a report the server cut short,
fails too: there is nothing to vouch for.

The gate is a check, not a change. Its first apply creates it (judges the
report, writes JUnit, records the counts in state); after that ``read`` reads
the report again on every plan (never waiting), and the engine shows the
``verdict`` as a check that passes or fails, with nothing to change. It is a
change again only when apply owes work: its filters changed, its JUnit file is
missing, or ``wait`` is set and the report is still processing. Destroy only
forgets it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from labform.providers.base import Attrs, ResourceType, RunFacts, Verdict, arg
from labform.providers.errors import AppliedWithError
from labform.providers.junit import Case, Suite, missing_junit, suite_element, write_junit
from labform.providers.perfecto.client import CLOUD, PROCESSING_COMPLETE, Report
from labform.providers.perfecto.reports import ExecutionFilters, OneOrMore, execution_attrs, read_report, status_counts

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


def _misses(desired: Attrs, attrs: Attrs) -> list[str]:
    """How the judged report misses the bar in ``desired`` (empty: it meets it)."""
    if attrs.get("truncated"):
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
    """Judges a CI job's executions and fails the apply below the bar; nothing is created on the cloud."""

    type_name = "perfecto_gate"
    ephemeral = True
    Args = GateArgs
    computed = ("id", "total", "counts", "pass_rate", "failures", "processing_status", "truncated")

    def check(self, desired):
        if desired.get("min_pass_rate") is None and not desired.get("fail_on"):
            return [("min_pass_rate", "set min_pass_rate or fail_on (or both): a gate needs a bar")]
        return []

    def read(self, ctx, id, prior):
        """The report judged now, with the filters state recorded (never waiting: a plan does not
        block); None for a gate state knows no filters of (nothing to read)."""
        if not prior.get("job_name"):
            return None
        report = read_report(ctx, {**prior, "wait": None})
        return _judged([execution_attrs(e) for e in report.executions], report, prior)

    def pending(self, desired, actual):
        if desired.get("wait") and actual.get("processing_status") != PROCESSING_COMPLETE:
            return "the report is still processing: apply waits for it, then judges it"
        return missing_junit(desired.get("junit"))

    def verdict(self, desired, actual):
        if "counts" not in actual:
            return Verdict("unknown", "the report has not been read yet")
        misses = _misses(desired, actual)
        return Verdict("fail", f"{actual['id']} missed its gate: {'; '.join(misses)}") if misses else Verdict("pass")

    def create(self, ctx, desired):
        report = read_report(ctx, desired)
        executions = [execution_attrs(e) for e in report.executions]
        attrs = _judged(executions, report, desired)
        ctx.progress(
            f"perfecto: {attrs['id']}: {len(executions)} executions, "
            + ", ".join(f"{n} {s}" for s, n in attrs["counts"].items())
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
        verdict = self.verdict(desired, attrs)
        if verdict.status == "fail":
            raise AppliedWithError(CLOUD, "gate", verdict.why, attrs)
        return attrs

    def update(self, ctx, id, desired, actual):
        """Filters changed, JUnit missing or processing not complete: judge the report again, in full."""
        return self.create(ctx, desired)

    def facts(self, attrs: Attrs) -> RunFacts:
        """The executions judged, passed and failed by status; whether the gate held, judged again from
        what state recorded."""
        counts = attrs["counts"]
        return RunFacts(passed=counts["PASSED"], failed=counts["FAILED"], gate=not _misses(attrs, attrs))

    def delete(self, ctx, id, actual):
        """Nothing on the cloud: destroying a gate only forgets it."""


def _judged(executions: list[Attrs], report: Report, desired: Attrs) -> Attrs:
    """What a gate records of the report it judged: counts, pass rate, the executions that did not pass."""
    counts = status_counts(executions)
    return {
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
        "truncated": report.truncated,
    }
