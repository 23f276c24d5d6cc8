"""Every JUnit file labform writes is valid against the JUnit schema Jenkins reads (tests/data/junit.xsd),
checked with a schema validator, and carries time, timestamp and classname.

One apply per cloud against its emulator, as the functional tests do: the file
is the one a CI job would read, written from what the cloud answered.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
import xmlschema

from labform.providers.junit import Case, Suite, suite_element, write_junit
from tests.apps import build_apk
from tests.conftest import BITBAR_PROVIDER
from tests.functional.apptest.conftest import APPTEST_PROVIDER
from tests.functional.kyaraben.conftest import WAIT, write_lab
from tests.functional.perfecto.conftest import PERFECTO_PROVIDER
from tests.functional.wetest.conftest import UPLOADS, write_app

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[1] / "data" / "junit.xsd")
RUN = "wait: {timeout: 60s, poll: 0.5s}\n    junit: JUNIT"


def check(path: Path) -> list[ET.Element]:
    """The file is valid and complete; its testcases."""
    SCHEMA.validate(str(path))
    root = ET.parse(path).getroot()
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and suites
    assert float(root.get("time")) == pytest.approx(sum(float(s.get("time")) for s in suites), abs=0.01)
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)
    for suite in suites:
        assert float(suite.get("time")) >= 0
        datetime.fromisoformat(suite.get("timestamp"))
    cases = root.findall("testsuite/testcase")
    assert cases and all(case.get("classname") for case in cases)
    return cases


def test_bitbar_run(half_failing, bitbar, workdir):
    """One testsuite per device run, from the cloud's own junit.xml per device."""
    app, tests = workdir.path / "app.apk", workdir.path / "tests.apk"
    app.write_bytes(build_apk())
    tests.write_bytes(build_apk())
    workdir.write(
        BITBAR_PROVIDER
        + f"""
resources:
  bitbar_project.ci: {{name: CI, type: ANDROID}}
  bitbar_device_group.ci: {{name: CI phones, os_type: ANDROID, devices: [304, 321]}}
  bitbar_project_config.ci:
    project: ${{bitbar_project.ci.id}}
    mode: FULL_RUN
    used_device_group: ${{bitbar_device_group.ci.id}}
  bitbar_file.app: {{project: "${{bitbar_project.ci.id}}", kind: application, path: {app}}}
  bitbar_file.tests: {{project: "${{bitbar_project.ci.id}}", kind: test, path: {tests}}}
  bitbar_run.smoke:
    project: ${{bitbar_project.ci.id}}
    depends_on: [bitbar_project_config.ci, bitbar_file.app, bitbar_file.tests]
    {RUN.replace("JUNIT", str(workdir.path / "bitbar.xml"))}
"""
    )
    assert workdir.apply().exit_code == 0
    assert len(ET.parse(workdir.path / "bitbar.xml").getroot().findall("testsuite")) == 2
    check(workdir.path / "bitbar.xml")


def test_wetest_test(half_failing, wetest, workdir):
    """One testcase per device, from the result codes."""
    script = workdir.path / "script.zip"
    script.write_bytes(b"PK appium script")
    workdir.write(
        UPLOADS.replace("APP", str(write_app(workdir))).replace("SCRIPT", str(script))
        + f"""  wetest_test.smoke:
    project: pj-demo
    app: ${{wetest_app.app.fid}}
    script: ${{wetest_script.appium.id}}
    cloud_id: 1
    devices: [10001, 10003]
    {RUN.replace("JUNIT", str(workdir.path / "wetest.xml"))}
"""
    )
    assert workdir.apply().exit_code == 0
    check(workdir.path / "wetest.xml")


def test_apptest_testset(half_failing, apptest, workdir):
    """The cloud's result_xml, whose testcases have no classname of their own."""
    (workdir.path / "app.apk").write_bytes(build_apk())
    workdir.write(
        APPTEST_PROVIDER
        + f"""
resources:
  apptest_testset.smoke:
    pid: 509
    path: {workdir.path / "app.apk"}
    testset_name: Nightly smoke
    {RUN.replace("JUNIT", str(workdir.path / "apptest.xml"))}
"""
    )
    assert workdir.apply().exit_code == 0
    assert {case.get("classname") for case in check(workdir.path / "apptest.xml")} == {"Nightly smoke"}


def test_kyaraben_campaign(half_failing, kyaraben, workdir):
    """One testcase per test of the campaign, classname the package under test."""
    write_lab(workdir, f"{WAIT}\njunit: {workdir.path / 'kyaraben.xml'}")
    assert workdir.apply().exit_code == 0
    check(workdir.path / "kyaraben.xml")


@pytest.mark.parametrize("perfecto", ["default"], indirect=True)
def test_perfecto_gate(perfecto, workdir):
    """One testcase per execution; the suite's timestamp is when the first execution started."""
    executions = perfecto.seed(6, job_name="release", job_number=5, failure_share=0.5)
    workdir.write(
        PERFECTO_PROVIDER
        + f"""
resources:
  perfecto_gate.release:
    job_name: release
    job_number: 5
    min_pass_rate: 0
    junit: {workdir.path / "perfecto.xml"}
"""
    )
    assert workdir.apply().exit_code == 0
    check(workdir.path / "perfecto.xml")
    first = min(e["startTime"] for e in executions) // 1000
    suite = ET.parse(workdir.path / "perfecto.xml").getroot().find("testsuite")
    assert suite.get("timestamp") == datetime.fromtimestamp(first, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_a_suite_without_cases_or_times_is_still_complete(tmp_path):
    """No cloud data at all: zero counts, time 0, the collection time as timestamp; still valid."""
    path = write_junit(tmp_path / "empty.xml", [suite_element(Suite("nothing ran"))], "labform")
    SCHEMA.validate(str(path))
    suite = ET.parse(path).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("time")) == ("0", "0.000")
    datetime.fromisoformat(suite.get("timestamp"))


def test_the_schema_is_a_real_check(tmp_path):
    """What the schema forbids is refused: a testsuite without its counts, an attribute it does not know."""
    path = write_junit(tmp_path / "ok.xml", [suite_element(Suite("s", [Case("c", time=None)]))], "labform")
    assert SCHEMA.is_valid(str(path))
    assert not SCHEMA.is_valid('<testsuites><testsuite name="s"><testcase name="c"/></testsuite></testsuites>')
    assert not SCHEMA.is_valid('<testsuites skipped="0"/>')
