"""JUnit XML into history rows: every attempt of every test case, Surefire's reruns included.

A ``<testcase>`` is one attempt, unless it carries Surefire's rerun elements
(tests/data/junit.xsd): ``<flakyFailure>``/``<flakyError>`` are failed
attempts before the one that passed (the test case itself), and
``<rerunFailure>``/``<rerunError>`` failed attempts after the first
(``<failure>``/``<error>``). A test case repeated for the same device (as
Gradle's test-retry plugin writes retries) is a further attempt. The case's
``time`` belongs to the attempt it stands for; a rerun element's own
``time``, where a writer gives one, to its attempt.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.parsers import expat

from labform.engine.history.errors import HistoryError
from labform.engine.history.results import Outcome, Result, Source
from labform.engine.history.store import HistoryStore

EARLIER: dict[str, Outcome] = {"flakyFailure": "failed", "flakyError": "error"}  # attempts before the case's own
LATER: dict[str, Outcome] = {"rerunFailure": "failed", "rerunError": "error"}  # attempts after it


@dataclass(frozen=True)
class Recorded:
    """What one ``record_junit`` added: its run id, and how many tests and attempts."""

    run_id: str
    tests: int
    attempts: int


def _seconds(element: ET.Element) -> float | None:
    try:
        value = float(element.get("time", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _own_outcome(case: ET.Element) -> Outcome:
    if case.find("error") is not None:
        return "error"
    if case.find("failure") is not None:
        return "failed"
    return "skipped" if case.find("skipped") is not None else "passed"


def attempts(case: ET.Element) -> Iterator[tuple[Outcome, float | None]]:
    """The case's attempts in the order they ran: (outcome, duration)."""
    for child in case:
        if child.tag in EARLIER:
            yield EARLIER[child.tag], _seconds(child)
    yield _own_outcome(case), _seconds(case)
    for child in case:
        if child.tag in LATER:
            yield LATER[child.tag], _seconds(child)


def _document(junit: str | bytes | Path) -> tuple[ET.Element, str]:
    """The parsed root and what to call it in an error: a path, or XML text given directly."""
    if isinstance(junit, bytes) or (isinstance(junit, str) and junit.lstrip().startswith("<")):
        text, shown = junit, "the JUnit XML"
    else:
        shown = str(junit)
        try:
            text = Path(junit).read_bytes()
        except OSError as exc:
            raise HistoryError(f"cannot read {shown}: {exc.strerror}") from None
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, column = exc.position
        why = expat.ErrorString(exc.code) or "unreadable"
        raise HistoryError(f"{shown}:{line}:{column + 1}: not JUnit XML ({why})") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise HistoryError(f"{shown}: not JUnit XML (its root is <{root.tag}>, not <testsuites> or <testsuite>)")
    return root, shown


def _suite_device(suite: ET.Element) -> str:
    """A suite's device: its ``device`` property, else its name (labform's JUnit names each suite after its device)."""
    for prop in suite.iter("property"):
        if prop.get("name") == "device":
            return prop.get("value", "")
    return suite.get("name", "")


def results(
    junit: str | bytes | Path,
    workspace: str,
    cloud: str,
    *,
    device: str | None,
    commit: str | None,
    source: Source,
    run_id: str,
) -> list[Result]:
    """Every attempt the file reports, as history rows of one run."""
    root, shown = _document(junit)
    seen: Counter[tuple[str, str]] = Counter()
    rows = []
    for suite in root.iter("testsuite"):  # the root too when it is one; nested suites as well
        on = device if device is not None else _suite_device(suite)
        for case in suite.findall("testcase"):
            name = case.get("name")
            if not name:
                raise HistoryError(f"{shown}: a <testcase> has no name")
            test_id = f"{case.get('classname')}.{name}" if case.get("classname") else name
            for outcome, duration in attempts(case):
                seen[test_id, on] += 1
                rows.append(
                    Result(workspace, cloud, test_id, on, commit, run_id, source, seen[test_id, on], outcome, duration)
                )
    return rows


def record_junit(
    store: HistoryStore,
    workspace: str,
    cloud: str,
    junit_path_or_xml: str | bytes | Path,
    *,
    device: str | None = None,
    commit: str | None = None,
    source: Source = "ci",
    recorded_at: datetime | None = None,
) -> Recorded:
    """Add every attempt a JUnit file (a path, or its XML) reports to ``store``, as one run.

    ``device`` None takes each suite's own (see ``_suite_device``); ``commit``
    None leaves the rows to be grouped by this run alone (provenance.py finds
    the commit from CI or git for callers that have a plan folder).
    """
    run_id = uuid.uuid4().hex
    rows = results(junit_path_or_xml, workspace, cloud, device=device, commit=commit, source=source, run_id=run_id)
    store.add(rows, recorded_at or datetime.now(UTC))
    return Recorded(run_id, len({r.test_id for r in rows}), len(rows))
