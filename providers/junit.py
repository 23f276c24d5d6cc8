"""JUnit XML: combine per-device reports into one file CI systems understand.

Each cloud hands back results differently (a junit.xml per device run, a
result code per device, one XML per testset); they all end here as one
``<testsuites>`` document with one ``<testsuite>`` per device.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Case:
    name: str
    classname: str = ""
    time: float = 0.0
    failure: str | None = None
    error: str | None = None
    skipped: bool = False
    output: str | None = None  # written as <system-out>: details worth seeing even on a pass


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


def suite_element(suite: Suite) -> ET.Element:
    element = ET.Element("testsuite", name=suite.name)
    if suite.properties:
        props = ET.SubElement(element, "properties")
        for key, value in sorted(suite.properties.items()):
            ET.SubElement(props, "property", name=key, value=str(value))
    for case in suite.cases:
        node = ET.SubElement(element, "testcase", name=case.name, classname=case.classname or suite.name, time=f"{case.time:.3f}")
        if case.failure is not None:
            ET.SubElement(node, "failure", message=case.failure.splitlines()[0] if case.failure else "failed").text = case.failure
        if case.error is not None:
            ET.SubElement(node, "error", message=case.error.splitlines()[0] if case.error else "error").text = case.error
        if case.skipped:
            ET.SubElement(node, "skipped")
        if case.output is not None:
            ET.SubElement(node, "system-out").text = case.output
    _count(element)
    return element


def renamed_suites(xml: bytes, name: str) -> list[ET.Element]:
    """The testsuite elements of a cloud's JUnit file, each named after ``name`` (e.g. the device)."""
    root = ET.fromstring(xml)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for index, suite in enumerate(suites):
        suite.set("name", name if len(suites) == 1 else f"{name} / {suite.get('name', index)}")
        _count(suite)
    return suites


def _count(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))


def write_junit(path: Path, suites: list[ET.Element], name: str) -> Path:
    """Write ``<testsuites>`` holding ``suites``; parent folders are created."""
    root = ET.Element("testsuites", name=name)
    for suite in suites:
        root.append(suite)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, 0)) for s in suites)))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
