"""JUnit XML: combine per-device reports into one file CI systems understand.

Each cloud hands back results differently (a junit.xml per device run, a
result code per device, one XML per testset); they all end here as one
``<testsuites>`` document with one ``<testsuite>`` per device.

Every file carries what CI tools read, as the Jenkins JUnit schema has it
(tests/data/junit.xsd checks it): ``tests``/``failures``/``errors`` and
``time`` on ``<testsuites>`` and on each ``<testsuite>``, a ``timestamp`` on
each ``<testsuite>`` and a ``classname`` on each ``<testcase>``. A run type
gives only its data (a :class:`Suite`, or the cloud's own XML through
:func:`renamed_suites`); what a cloud leaves out is completed here: the time
as the sum of the cases', the classname as the suite's name, the timestamp as
when the results were collected.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Case:
    name: str
    classname: str = ""
    time: float | None = 0.0  # None: not known, and the attribute is left out rather than shown as 0
    failure: str | None = None
    error: str | None = None
    skipped: bool = False
    output: str | None = None  # written as <system-out>: details worth seeing even on a pass


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    timestamp: datetime | None = None  # when it started, where the cloud says


def timestamp(moment: datetime) -> str:
    """Ant's form (``2024-05-01T12:30:00``, no zone), in UTC when ``moment`` knows its zone:
    the one form every JUnit reader takes, the strict Ant schema included."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def suite_element(suite: Suite) -> ET.Element:
    element = ET.Element("testsuite", name=suite.name)
    if suite.timestamp is not None:
        element.set("timestamp", timestamp(suite.timestamp))
    if suite.properties:
        props = ET.SubElement(element, "properties")
        for key, value in sorted(suite.properties.items()):
            ET.SubElement(props, "property", name=key, value=str(value))
    for case in suite.cases:
        timing = {} if case.time is None else {"time": f"{case.time:.3f}"}
        node = ET.SubElement(
            element, "testcase", {"name": case.name, "classname": case.classname or suite.name, **timing}
        )
        if case.failure is not None:
            ET.SubElement(
                node, "failure", message=case.failure.splitlines()[0] if case.failure else "failed"
            ).text = case.failure
        if case.error is not None:
            ET.SubElement(
                node, "error", message=case.error.splitlines()[0] if case.error else "error"
            ).text = case.error
        if case.skipped:
            ET.SubElement(node, "skipped")
        if case.output is not None:
            ET.SubElement(node, "system-out").text = case.output
    complete_suite(element)
    return element


def renamed_suites(xml: bytes, name: str) -> list[ET.Element]:
    """The testsuite elements of a cloud's JUnit file, each named after ``name`` (e.g. the device)."""
    root = ET.fromstring(xml)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for index, suite in enumerate(suites):
        suite.set("name", name if len(suites) == 1 else f"{name} / {suite.get('name', index)}")
        complete_suite(suite)
    return suites


def _seconds(element: ET.Element) -> float:
    try:
        return float(element.get("time") or 0)
    except ValueError:
        return 0.0


def complete_suite(suite: ET.Element) -> None:
    """Counts from the testcases; the time, and each testcase's classname, where the source had none.
    A case's reruns (``<rerunFailure>``, ``<flakyFailure>``) are not counted: a case counts once."""
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    if suite.get("time") is None:
        suite.set("time", f"{sum(_seconds(c) for c in cases):.3f}")
    for case in cases:
        if not case.get("classname"):
            case.set("classname", suite.get("name", ""))


def missing_junit(path: str | None) -> str | None:
    """Why apply still owes the JUnit file at ``path`` (it was removed), or None: the ``pending``
    reason of every type that writes one."""
    if path and not Path(path).exists():
        return f"its JUnit file {path} is missing: apply writes it again"
    return None


def write_junit(path: Path, suites: list[ET.Element], name: str) -> Path:
    """Write ``<testsuites>`` holding ``suites``; parent folders are created. A suite with no
    timestamp of its own gets the time the results were collected, which is now."""
    collected = timestamp(datetime.now(UTC))
    root = ET.Element("testsuites", name=name)
    for suite in suites:
        suite.attrib.setdefault("timestamp", collected)
        root.append(suite)
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, 0)) for s in suites)))
    root.set("time", f"{sum(_seconds(s) for s in suites):.3f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
