"""The provider against every server the doc allows: a small fixed set of plans, run on the
emulator started with each doc variant (providers/apptest/emulator/variants.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from labform.providers.apptest.emulator import VARIANTS
from tests.apps import build_apk
from tests.functional.apptest.conftest import APPTEST_PROVIDER, recorded_testset

EVERY_VARIANT = pytest.mark.parametrize("variant", sorted(VARIANTS))

# One testset; OPTIONS is replaced by its wait / gate / junit lines.
PLAN = (
    APPTEST_PROVIDER
    + """
resources:
  apptest_testset.smoke:
    pid: 509
    path: APP_PATH
    testset_name: Nightly smoke
    OPTIONS
"""
)
WAIT = "wait: {timeout: 60s, poll: 0.2s}"


def write_plan(workdir, *options: str) -> None:
    (workdir.path / "app.apk").write_bytes(build_apk())
    lines = "\n    ".join(options) or "time_limit: 5"
    workdir.write(PLAN.replace("APP_PATH", str(workdir.path / "app.apk")).replace("OPTIONS", lines))


@EVERY_VARIANT
def test_a_passing_testset_applies_then_replans_empty_on_every_variant(variant, running_clock, apptest, workdir):
    junit = workdir.path / "smoke.xml"
    write_plan(workdir, WAIT, "gate: {max_failed: 0, min_passed: 3}", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert len(ET.parse(junit).getroot().findall("testsuite/testcase")) == 3
    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output


@EVERY_VARIANT
def test_a_testset_the_cloud_lost_is_refreshed_as_gone_on_every_variant(variant, apptest, workdir):
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    apptest.lose(recorded_testset(workdir)["id"])
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "apptest_testset.smoke will be created (gone from the cloud (deleted outside labform))" in plan.stdout
    assert workdir.apply().exit_code == 0
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    assert apptest.starts() == 2


@EVERY_VARIANT
def test_a_failing_testset_waits_misses_its_gate_and_writes_junit_on_every_variant(
    variant, running_clock, emulator_options, apptest, workdir
):
    """One of three tests fails (the seed): the gate is missed with the counts, the JUnit file shows the error."""
    emulator_options.failure_share = 0.34
    junit = workdir.path / "smoke.xml"
    write_plan(workdir, WAIT, "gate: {max_failed: 0}", f"junit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None, result.output
    assert (
        "missed its gate: 1 device failed (JUnit errors, as the cloud writes them), at most 0 allowed; "
        "of 3 devices: 2 passed, 1 failed, 0 errors" in result.stdout
    )
    assert len(ET.parse(junit).getroot().findall("testsuite/testcase/error")) == 1
    assert recorded_testset(workdir)["attributes"]["failed"] == 1
