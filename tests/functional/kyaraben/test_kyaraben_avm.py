"""kyaraben VMs: apks installed and awaited, plan-time checks of hwconfig, images and quota
(naming the field, before any change), and a VM the cloud keeps in ERROR over quota."""

from __future__ import annotations

import re
import time

from tests.functional.kyaraben.conftest import KYARABEN_PROVIDER, LAB, resources_of, write_apk, write_lab

VMS = (
    KYARABEN_PROVIDER
    + """
resources:
  kyaraben_project.lab:
    project_name: lab
"""
    + "".join(
        f"""  kyaraben_avm.vm{n}:
    project: ${{kyaraben_project.lab.id}}
    image: kitkat-phone
    avm_name: vm{n}
"""
        for n in range(1, 5)
    )
)


def test_an_added_apk_is_installed_in_place_and_its_result_awaited(running_clock, kyaraben, workdir):
    write_lab(workdir)
    assert workdir.apply().exit_code == 0
    tests = write_apk(workdir.path, "tests.apk", package="com.labform.sample.extra")
    extra = f"""  kyaraben_apk.extra:
    project: ${{kyaraben_project.lab.id}}
    path: {tests}
"""
    write_lab(
        workdir,
        extra=extra,
        replace={'apks: ["${kyaraben_apk.app.id}"]': 'apks: ["${kyaraben_apk.app.id}", "${kyaraben_apk.extra.id}"]'},
    )
    plan = workdir.plan()
    assert "kyaraben_avm.phone will be updated in-place" in plan.stdout
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert re.search(r"VM \w+: install of apk \w+: READY", result.output)
    vm = resources_of(workdir)["kyaraben_avm.phone"]
    assert kyaraben.api().get(f"/android/{vm['id']}/apk").json()["packages"] == [
        "com.labform.sample",
        "com.labform.sample.extra",
    ]
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_an_unnamed_vm_gets_a_stable_name_from_its_address(running_clock, kyaraben, workdir):
    """Without avm_name the VM is named from its plan address, already at plan time; the name is its natural key."""
    from labform.providers.kyaraben.planning import derived_name

    write_lab(workdir, replace={"    avm_name: phone\n": ""})
    name = derived_name("kyaraben_avm.phone")
    plan = workdir.plan()
    assert re.search(rf'\+ avm_name\s+= "{name}"', plan.stdout), plan.stdout
    assert workdir.apply().exit_code == 0
    assert resources_of(workdir)["kyaraben_avm.phone"]["attributes"]["avm_name"] == name
    assert re.fullmatch(r"labform-[0-9a-f]{12}", name)
    assert (
        kyaraben.api().get(f"/android/{resources_of(workdir)['kyaraben_avm.phone']['id']}").json()["avm"]["avm_name"]
        == name
    )
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_an_unknown_hwconfig_key_is_a_plan_error_at_its_line(kyaraben, workdir):
    write_lab(workdir, replace={"enable_gps: 1}": "enable_gps: 1, widht: 3}"})
    result = workdir.plan()
    assert result.exit_code == 1
    assert re.search(r"main\.yaml:\d+:\d+: kyaraben_avm\.phone: hwconfig\.widht: unknown field", result.stderr), (
        result.stderr
    )
    assert kyaraben.app.log.all() == []


def test_a_hwconfig_switch_must_be_0_or_1(kyaraben, workdir):
    write_lab(workdir, replace={"enable_gps: 1}": "enable_gps: 2}"})
    result = workdir.plan()
    assert result.exit_code == 1
    assert re.search(r"main\.yaml:\d+:\d+: kyaraben_avm\.phone: hwconfig\.enable_gps: must be 0 or 1", result.stderr), (
        result.stderr
    )


def test_an_image_the_cloud_lacks_is_a_plan_error_naming_the_field(kyaraben, workdir):
    write_lab(workdir, replace={"image: lollipop-phone": "image: lollipop-phablet"})
    result = workdir.plan()
    assert result.exit_code == 1
    line = next(
        i
        for i, text in enumerate(workdir.path.joinpath("main.yaml").read_text().splitlines(), 1)
        if "lollipop-phablet" in text
    )
    assert re.search(
        rf"main\.yaml:{line}:5: kyaraben_avm\.phone: image: 'lollipop-phablet' is not an image kyaraben offers \(images: kitkat-phone, kitkat-tablet, lollipop-phone, lollipop-tablet\)",
        result.stderr,
    ), result.stderr
    assert kyaraben.writes() == []


def test_a_plan_starting_more_live_vms_than_the_quota_fails_before_any_change(kyaraben, workdir):
    """Four VMs against vm_live_max 3: the plan names the numbers; nothing is created, not even the project."""
    workdir.write(VMS)
    result = workdir.apply()
    assert result.exit_code == 1
    assert re.search(
        r"kyaraben_avm\.vm4: quota: this plan starts 4 live VMs and the user has 0 already; 4 is more than vm_live_max 3",
        result.stderr,
    ), result.output
    assert kyaraben.writes() == []
    assert kyaraben.records("projects") == kyaraben.records("avms") == []


def test_vms_the_user_already_has_count_against_the_quota(running_clock, kyaraben, workdir):
    kyaraben.set_quota(vm_live_max=4)
    api = kyaraben.api()
    outside = api.post("/projects", json={"project_name": "elsewhere"}).json()["project_id"]
    api.post("/android", json={"project_id": outside, "image": "kitkat-tablet"})
    kyaraben.app.clock.advance(1)
    workdir.write(VMS)
    result = workdir.plan()
    assert result.exit_code == 1
    assert (
        "quota: this plan starts 4 live VMs and the user has 1 already; 5 is more than vm_live_max 4" in result.stderr
    )


def test_a_vm_the_cloud_keeps_in_error_over_quota_times_out_showing_why_and_is_recorded(
    running_clock, kyaraben, workdir, monkeypatch
):
    """Planned with a free slot; by apply time another VM took it: the cloud answers ERROR and
    retries (the doc's rule). The wait times out naming the status_reason; the VM is in state,
    so the next apply creates no other, and once the slot frees the cloud makes it READY."""
    monkeypatch.setenv("KYARABEN_WAIT", "2s")
    kyaraben.set_quota(vm_live_max=1)
    workdir.write(
        LAB.split("  kyaraben_apk.app:")[0]
        + """  kyaraben_avm.phone:
    project: ${kyaraben_project.lab.id}
    image: kitkat-phone
    avm_name: phone
"""
    )
    saved = workdir.path / "tfplan"
    assert workdir.plan("-out", str(saved)).exit_code == 0
    api = kyaraben.api()
    outside = api.post("/projects", json={"project_name": "elsewhere"}).json()["project_id"]
    squatter = api.post("/android", json={"project_id": outside, "image": "kitkat-tablet"}).json()["avm_id"]
    result = workdir.run("apply", str(saved))
    assert result.exit_code == 1
    assert re.search(
        r"VM \w+: ERROR \(Quota exceeded for instances: Requested 1, but already used 1 of 1 instances", result.output
    ), result.output
    assert re.search(
        r"kyaraben: wait for VM \w+ failed: not READY within 2s \(last: ERROR \(Quota exceeded", result.output
    ), result.output
    vm = resources_of(workdir)["kyaraben_avm.phone"]["id"]

    api.delete(f"/android/{squatter}")
    monkeypatch.setenv("KYARABEN_WAIT", "60s")
    again = workdir.apply()
    assert again.exit_code == 0, again.output
    assert resources_of(workdir)["kyaraben_avm.phone"]["id"] == vm
    deadline = time.monotonic() + 10
    while api.get(f"/android/{vm}").json()["avm"]["status"] != "READY":
        assert time.monotonic() < deadline, "the rescheduled VM never became READY"
        time.sleep(0.1)
    assert len([r for r in kyaraben.app.log.matching("POST") if r.path == "/android"]) == 2
