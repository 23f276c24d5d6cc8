"""The provider against every server the doc allows: a small fixed set of plans, run on the
emulator started with each doc variant (providers/kyaraben/emulator/variants.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from labform.providers.kyaraben.emulator import VARIANTS
from tests.functional.kyaraben.conftest import WAIT, resources_of, write_lab

EVERY_VARIANT = pytest.mark.parametrize("variant", sorted(VARIANTS))


@EVERY_VARIANT
def test_apply_rename_and_replan_are_empty_on_every_variant(variant, running_clock, kyaraben, workdir):
    """Create the lab, rename the project and the VM in place: each re-plan is empty."""
    write_lab(workdir)
    first = workdir.apply()
    assert first.exit_code == 0, first.output
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    write_lab(workdir, replace={"project_name: lab": "project_name: lab two", "avm_name: phone": "avm_name: phone two"})
    renamed = workdir.apply()
    assert renamed.exit_code == 0, renamed.output
    assert "0 added, 2 changed, 0 destroyed" in renamed.stdout
    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output


@EVERY_VARIANT
def test_an_object_deleted_behind_labforms_back_is_refreshed_as_gone_on_every_variant(
    variant, running_clock, kyaraben, workdir
):
    write_lab(workdir)
    assert workdir.apply().exit_code == 0
    vm = resources_of(workdir)["kyaraben_avm.phone"]["id"]
    assert kyaraben.api().delete(f"/android/{vm}").status_code == 202
    kyaraben.app.clock.advance(1)  # past DELETING
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2
    assert "kyaraben_avm.phone will be created" in plan.stdout
    assert workdir.apply().exit_code == 0
    assert workdir.plan("--detailed-exitcode").exit_code == 0


@EVERY_VARIANT
def test_a_campaign_waits_gates_and_writes_junit_on_every_variant(variant, half_failing, kyaraben, workdir):
    """One campaign test of two fails (the seed; its first scenario of two): with max_failed 1 the gate
    passes, whatever the campaign status."""
    junit = workdir.path / "smoke.xml"
    write_lab(workdir, f"{WAIT}\ngate: {{max_failed: 1}}\njunit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    cases = ET.parse(junit).getroot().findall("testsuite/testcase")
    assert len(cases) == 4 and sum(c.find("failure") is not None for c in cases) == 1
    assert all(c.find("system-out").text for c in cases)
    assert workdir.plan("--detailed-exitcode").exit_code == 0
