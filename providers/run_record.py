"""The canonical record of a run: every test case, on every device, with every attempt.

A run with retries has several answers from the cloud (the first attempt, then
each re-run of what failed). They are folded here, once, into one record per
test case (its id, device, the unit the cloud re-runs it by, and each attempt's
outcome, duration, message, output and artifacts). JUnit, the run's facts
(``-json``, the CI step summary) and the gate are all read from this record, so
their counts cannot disagree: a test counts once however many attempts it had,
by its last attempt, and a test that failed and then passed is *flaky*.

State keeps the record as plain JSON (``to_json``/``from_json``) inside the
run's entry, beside the attempts it was made from.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from labform.providers.junit import complete_suite

Outcome = Literal["passed", "failed", "error", "skipped"]
FAILING: tuple[str, ...] = ("failed", "error")
# What a failure element says of itself when the cloud names no exception (Surefire's attribute is required).
FAILURE_TYPE = "AssertionError"
ERROR_TYPE = "Error"


@dataclass
class Attempt:
    """One attempt of one test case on one device."""

    number: int
    outcome: Outcome
    duration: float | None = None  # seconds; None: the cloud did not say
    message: str = ""
    output: str | None = None  # the attempt's stdout, as system-out
    artifacts: list[str] = field(default_factory=list)
    type: str | None = None  # the failure's exception type, where the cloud names it


@dataclass
class CaseResult:
    """What a cloud reports of one test case in one attempt: the input the record is made of."""

    classname: str
    name: str
    device: str
    unit: str  # what the cloud re-runs it by: a device run id, a campaign test's position
    outcome: Outcome
    duration: float | None = None
    message: str = ""
    output: str | None = None
    artifacts: list[str] = field(default_factory=list)
    type: str | None = None


@dataclass
class CaseRecord:
    classname: str
    name: str
    device: str
    unit: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The test's id as JUnit readers print it (and as ``quarantine:`` lists it)."""
        return f"{self.classname}.{self.name}"

    @property
    def outcome(self) -> Outcome:
        """The last attempt's: the one the gate counts."""
        return self.attempts[-1].outcome

    @property
    def flaky(self) -> bool:
        return self.outcome == "passed" and any(a.outcome in FAILING for a in self.attempts)


@dataclass(frozen=True)
class Counts:
    """A run's test cases (× devices), each counted once, by its last attempt."""

    tests: int
    passed: int
    failed: int
    flaky: int
    skipped: int
    devices: int
    devices_passed: int
    attempts: int


UnitOf = Callable[[CaseRecord], str]


def seconds_of(text: str | None) -> float | None:
    """A JUnit time attribute as seconds; one not given, or that is no number, is unknown."""
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _recorded_unit(case: CaseRecord) -> str:
    return case.unit


@dataclass
class RunRecord:
    cases: list[CaseRecord] = field(default_factory=list)

    # --- building ---------------------------------------------------------
    def add(self, number: int, results: Iterable[CaseResult]) -> None:
        """Fold one attempt's results in: a case seen before gets another attempt, a new one a record."""
        known = {(c.unit, c.device, c.classname, c.name): c for c in self.cases}
        for result in results:
            key = (result.unit, result.device, result.classname, result.name)
            case = known.get(key)
            if case is None:
                case = known[key] = CaseRecord(result.classname, result.name, result.device, result.unit)
                self.cases.append(case)
            case.attempts.append(
                Attempt(
                    number,
                    result.outcome,
                    result.duration,
                    result.message,
                    result.output,
                    result.artifacts,
                    result.type,
                )
            )

    # --- reading ----------------------------------------------------------
    def failed_units(self, quarantine: Iterable[str] = (), unit_of: UnitOf | None = None) -> list[str]:
        """The units whose last attempt had a failing case, in record order: what a retry re-runs.
        A quarantined test's failure re-runs nothing (it cannot fail the gate). ``unit_of`` names
        the unit a case is re-run by where that is not the one it was recorded under (Bitbar
        records a case by its device run, and re-runs it by its class or package)."""
        skip = set(quarantine)
        key = unit_of or _recorded_unit
        units = (key(c) for c in self.cases if c.outcome in FAILING and c.id not in skip)
        return list(dict.fromkeys(units))

    def units(self, unit_of: UnitOf | None = None) -> list[str]:
        key = unit_of or _recorded_unit
        return list(dict.fromkeys(key(c) for c in self.cases))

    def counts(self, quarantine: Iterable[str] = ()) -> Counts:
        """The counts every report shows; a quarantined test is left out of them (reported apart)."""
        skip = set(quarantine)
        counted = [c for c in self.cases if c.id not in skip]
        devices: dict[str, bool] = {}
        for case in counted:
            devices[case.device] = devices.get(case.device, True) and case.outcome not in FAILING
        return Counts(
            tests=len(counted),
            passed=sum(c.outcome == "passed" for c in counted),
            failed=sum(c.outcome in FAILING for c in counted),
            flaky=sum(c.flaky for c in counted),
            skipped=sum(c.outcome == "skipped" for c in counted),
            devices=len(devices),
            devices_passed=sum(devices.values()),
            attempts=max((a.number for c in self.cases for a in c.attempts), default=0),
        )

    def quarantined(self, quarantine: Iterable[str]) -> list[CaseRecord]:
        wanted = set(quarantine)
        return [c for c in self.cases if c.id in wanted]

    def flaky_cases(self) -> list[CaseRecord]:
        return [c for c in self.cases if c.flaky]

    # --- JUnit --------------------------------------------------------------
    def junit_suites(
        self, properties: dict[str, str] | None = None, suite_of: UnitOf | None = None
    ) -> list[ET.Element]:
        """One testsuite per device (or per ``suite_of`` a case: WeTest's cases are its devices, in
        one suite); every attempt of a case inside its one testcase, as Surefire's
        rerun reports have it: a flaky case carries ``<flakyFailure>``/``<flakyError>`` per failed
        attempt and no failure; one that never passed carries its first failure as ``<failure>`` (or
        ``<error>``) and each later one as ``<rerunFailure>``/``<rerunError>``. The time is the last
        attempt's, the counts the last attempts' (providers/junit.py completes the suite)."""
        suites: dict[str, ET.Element] = {}
        for case in self.cases:
            name = suite_of(case) if suite_of else case.device
            suite = suites.get(name)
            if suite is None:
                suite = suites[name] = ET.Element("testsuite", name=name)
                if properties:
                    props = ET.SubElement(suite, "properties")
                    for key, value in sorted(properties.items()):
                        ET.SubElement(props, "property", name=key, value=str(value))
            _case_element(suite, case)
        for suite in suites.values():
            complete_suite(suite)
        return list(suites.values())

    # --- state ---------------------------------------------------------------
    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(case) for case in self.cases]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]] | None) -> RunRecord:
        cases = []
        for item in data or []:
            attempts = [Attempt(**a) for a in item.get("attempts") or []]
            cases.append(CaseRecord(item["classname"], item["name"], item["device"], item["unit"], attempts))
        return cls(cases)


def _case_element(suite: ET.Element, case: CaseRecord) -> None:
    last = case.attempts[-1]
    timing = {} if last.duration is None else {"time": f"{last.duration:.3f}"}
    node = ET.SubElement(suite, "testcase", {"name": case.name, "classname": case.classname, **timing})
    failed = [a for a in case.attempts if a.outcome in FAILING]
    if case.outcome == "passed":
        for attempt in failed:
            _rerun_element(node, "flakyError" if attempt.outcome == "error" else "flakyFailure", attempt)
    elif case.outcome in FAILING:
        first, *later = failed
        tag = "error" if first.outcome == "error" else "failure"
        element = ET.SubElement(
            node,
            tag,
            message=_headline(first.message, tag),
            type=first.type or (ERROR_TYPE if tag == "error" else FAILURE_TYPE),
        )
        element.text = first.message or None
        for attempt in later:
            _rerun_element(node, "rerunError" if attempt.outcome == "error" else "rerunFailure", attempt)
    else:
        ET.SubElement(node, "skipped")
    if last.output is not None:
        ET.SubElement(node, "system-out").text = last.output


def _rerun_element(node: ET.Element, tag: str, attempt: Attempt) -> None:
    error = tag.endswith("Error")
    element = ET.SubElement(
        node,
        tag,
        message=f"attempt {attempt.number}: {_headline(attempt.message, 'error' if error else 'failure')}",
        type=attempt.type or (ERROR_TYPE if error else FAILURE_TYPE),
    )
    if attempt.message:
        ET.SubElement(element, "stackTrace").text = attempt.message
    if attempt.output is not None:
        ET.SubElement(element, "system-out").text = attempt.output


def _headline(message: str, kind: str) -> str:
    return message.splitlines()[0] if message else ("failed" if kind == "failure" else "error")
