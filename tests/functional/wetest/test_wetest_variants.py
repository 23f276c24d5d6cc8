"""The provider against every server the doc allows: a small fixed set of plans, run on the
emulator started with each doc variant (providers/wetest/emulator/variants.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from labform.providers.emulation import Clock
from labform.providers.wetest.emulator import VARIANTS
from tests.functional.wetest.conftest import UPLOADS, resources_of, write_app

EVERY_VARIANT = pytest.mark.parametrize("variant", sorted(VARIANTS))

# A test on the uploads: DEVICES picks them, GATE bounds the result, JUNIT is the report's path.
RUN = (
    UPLOADS
    + """  wetest_test.smoke:
    project: pj-demo
    app: ${wetest_app.app.fid}
    script: ${wetest_script.appium.id}
    cloud_id: 1
    DEVICES
    triggers: ["${wetest_app.app.md5}"]
    wait: {timeout: 60s, poll: 0.2s}
    gate: GATE
    junit: JUNIT
"""
)


@pytest.fixture
def timed_clock(emulator_options):
    """Ten virtual seconds a test, in about one real second: device times are whole seconds apart."""
    emulator_options.clock = Clock(speed=10.0)
    emulator_options.job_duration = 10.0


def write_plan(workdir, text: str = UPLOADS, **replace: str) -> None:
    script = workdir.path / "script.zip"
    script.write_bytes(b"PK appium script")
    text = text.replace("APP", str(write_app(workdir))).replace("SCRIPT", str(script))
    for old, new in replace.items():
        text = text.replace(old, new)
    workdir.write(text)


def junit_cases(path) -> list[ET.Element]:
    cases = ET.parse(path).getroot().findall("testsuite/testcase")
    assert cases and all(float(c.get("time")) > 0 for c in cases), [c.attrib for c in cases]  # every time format read
    return cases


@EVERY_VARIANT
def test_uploads_and_a_passing_run_apply_then_replan_empty_on_every_variant(variant, timed_clock, wetest, workdir):
    junit = workdir.path / "smoke.xml"
    write_plan(workdir, RUN, DEVICES="devices: [10001, 10003, 10005]", GATE="{min_pass_rate: 1.0}", JUNIT=str(junit))
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert "cannot read the times" not in result.stderr
    assert len(junit_cases(junit)) == 3
    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output


@EVERY_VARIANT
def test_uploads_deleted_behind_labforms_back_are_refreshed_as_gone_on_every_variant(variant, wetest, workdir):
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    resources = resources_of(workdir)
    api = wetest.api()
    assert api.delete(f"/platform/upload/info/{resources['wetest_app.app']['id']}").json()["ret"] == 0
    assert api.delete(f"/scripts/{resources['wetest_script.appium']['id']}").json()["ret"] == 0
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    for address in ("wetest_app.app", "wetest_script.appium"):
        assert f"{address} will be created (gone from the cloud (deleted outside labform))" in plan.stdout
    assert workdir.apply().exit_code == 0
    assert workdir.plan("--detailed-exitcode").exit_code == 0


@EVERY_VARIANT
def test_a_run_on_two_devices_waits_misses_its_gate_and_writes_junit_on_every_variant(
    variant, timed_clock, emulator_options, wetest, workdir
):
    """One of two devices fails (the seed): the gate is missed with the numbers, the JUnit file says which."""
    emulator_options.failure_share = 0.5
    junit = workdir.path / "smoke.xml"
    write_plan(workdir, RUN, DEVICES="device_number: 2", GATE="{min_pass_rate: 0.9, over: devices}", JUNIT=str(junit))
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None, result.output
    assert "missed its gate: pass rate over devices 0.50 (1/2 devices passed)" in result.stdout
    cases = junit_cases(junit)
    assert len(cases) == 2 and sum(c.find("failure") is not None for c in cases) == 1
    assert "wetest_test.smoke" in resources_of(workdir)


GAME_LOOP = (
    UPLOADS
    + """  wetest_test.loops:
    project: pj-demo
    app: ${wetest_app.app.fid}
    frame_type: game_loop
    scenarios: "1-3, 5"
    cloud_id: 1
    device_number: 1
    triggers: ["${wetest_app.app.md5}"]
"""
)


@pytest.mark.parametrize("variant", ["default", "scenarios-game-loop-only", "resign-ios-only"])
def test_a_game_loop_test_with_scenarios_applies_on_servers_that_refuse_them_elsewhere(variant, wetest, workdir):
    """The provider sends scenarios only with game_loop (it refuses them elsewhere at plan time), so a
    server that refuses scenarios outside Game Loop takes its tests as the default one does."""
    write_plan(workdir, GAME_LOOP)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    test = wetest.app.store.data["tests"][resources_of(workdir)["wetest_test.loops"]["id"]]
    assert (test["frame_type"], test["scenarios"]) == ("game_loop", [1, 2, 3, 5])


@pytest.mark.parametrize("variant", ["default", "resign-ios-only"])
def test_resign_for_an_apk_is_ignored_or_refused_with_the_clouds_reason(variant, timed_clock, wetest, workdir):
    """resign for an app known only once uploaded reaches the server: the default one runs the test (resign
    unused), the resign-ios-only one refuses it, which fails the apply with its reason and no traceback."""
    write_plan(
        workdir,
        RUN,
        DEVICES="device_number: 1\n    resign: true",
        GATE="{min_pass_rate: 0.0}",
        JUNIT=str(workdir.path / "r.xml"),
    )
    result = workdir.apply()
    if variant == "default":
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1 and result.exception is None
    assert "resign is for iOS apps only" in result.output
    assert "Traceback" not in result.output
