"""The canonical run record: a test counts once by its last attempt, flaky is failed-then-passed,
and the JUnit made from it keeps every attempt, valid against the Jenkins schema with and without
retries, its counts the record's."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema

from labform.providers.junit import write_junit
from labform.providers.run_record import CaseResult, RunRecord

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "data" / "junit.xsd")


def result(name: str, device: str, outcome: str, unit: str = "") -> CaseResult:
    return CaseResult("com.app.Tests", name, device, unit or device, outcome, 1.5, f"{name} {outcome}", "stdout")  # type: ignore[arg-type]


def three_attempts() -> RunRecord:
    record = RunRecord()
    record.add(1, [result("a", "pixel", "passed"), result("b", "pixel", "failed"), result("c", "galaxy", "failed")])
    record.add(2, [result("b", "pixel", "passed"), result("c", "galaxy", "error")])
    record.add(3, [result("c", "galaxy", "failed")])
    return record


def written(tmp_path: Path, record: RunRecord) -> ET.Element:
    path = write_junit(tmp_path / "junit.xml", record.junit_suites({"run_id": "7"}), "run 7")
    SCHEMA.validate(str(path))
    return ET.parse(path).getroot()


def test_each_case_counts_once_by_its_last_attempt():
    counts = three_attempts().counts()
    assert (counts.tests, counts.passed, counts.failed, counts.flaky) == (3, 2, 1, 1)
    assert (counts.devices, counts.devices_passed, counts.attempts) == (2, 1, 3)
    assert three_attempts().failed_units() == ["galaxy"]


def test_quarantine_leaves_a_test_out_of_the_counts_and_the_reruns():
    record = three_attempts()
    counts = record.counts(["com.app.Tests.c"])
    assert (counts.tests, counts.failed, counts.devices) == (2, 0, 1)
    assert record.failed_units(["com.app.Tests.c"]) == []
    assert [c.id for c in record.quarantined(["com.app.Tests.c"])] == ["com.app.Tests.c"]


def test_junit_keeps_every_attempt_as_surefire_does(tmp_path):
    root = written(tmp_path, three_attempts())
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "0")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert [e.tag for e in cases["a"]] == ["system-out"]
    flaky = cases["b"].find("flakyFailure")
    assert flaky is not None and flaky.get("type") and flaky.get("message") == "attempt 1: b failed"
    assert cases["b"].find("failure") is None
    assert [e.tag for e in cases["c"] if e.tag != "system-out"] == ["failure", "rerunError", "rerunFailure"]
    assert all(e.get("type") for e in cases["c"] if e.tag != "system-out")


def test_junit_without_retries_is_plain_and_valid(tmp_path):
    record = RunRecord()
    record.add(1, [result("a", "pixel", "passed"), result("b", "pixel", "failed"), result("c", "pixel", "skipped")])
    root = written(tmp_path, record)
    assert (root.get("tests"), root.get("failures")) == ("3", "1")
    assert not [e for e in root.iter() if e.tag.startswith(("rerun", "flaky"))]


def test_the_record_survives_state_as_json():
    record = three_attempts()
    again = RunRecord.from_json(record.to_json())
    assert again.counts() == record.counts() and again.to_json() == record.to_json()
