"""Plan and apply kyaraben projects and VMs end to end: idempotence, in-place renames,
replacements, drift, the doc's 404 for other users, auth, and refused project deletes."""

from __future__ import annotations

import re

import pytest

from tests.functional.kyaraben.conftest import LAB, WAIT, resources_of, write_lab


def ids(workdir) -> dict[str, str]:
    return {address: item["id"] for address, item in resources_of(workdir).items()}


def test_apply_creates_the_lab_and_a_second_plan_and_apply_change_nothing(running_clock, kyaraben, workdir):
    """Everything is created and READY; re-planning is empty and a second apply sends no write."""
    write_lab(workdir)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert "Apply complete! Resources: 4 added, 0 changed, 0 destroyed." in result.stdout
    api, made = kyaraben.api(), ids(workdir)
    vm = api.get(f"/android/{made['kyaraben_avm.phone']}").json()["avm"]
    assert (vm["status"], vm["avm_name"], vm["image"]) == ("READY", "phone", "lollipop-phone")
    assert api.get(f"/android/{vm['avm_id']}/apk").json()["packages"] == ["com.labform.sample"]
    assert resources_of(workdir)["kyaraben_avm.phone"]["attributes"]["apks"] == [made["kyaraben_apk.app"]]

    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout
    kyaraben.app.log.clear()
    assert workdir.apply().exit_code == 0
    assert kyaraben.writes() == []


def test_renaming_the_project_and_the_vm_updates_both_in_place(running_clock, kyaraben, workdir):
    write_lab(workdir)
    assert workdir.apply().exit_code == 0
    before = ids(workdir)
    write_lab(workdir, replace={"project_name: lab": "project_name: lab two", "avm_name: phone": "avm_name: phone two"})
    plan = workdir.plan()
    assert "kyaraben_project.lab will be updated in-place" in plan.stdout
    assert "kyaraben_avm.phone will be updated in-place" in plan.stdout
    assert "Plan: 0 to add, 2 to change, 0 to destroy." in plan.stdout
    assert workdir.apply().exit_code == 0
    assert ids(workdir) == before
    api = kyaraben.api()
    assert api.get(f"/projects/{before['kyaraben_project.lab']}").json()["project"]["project_name"] == "lab two"
    assert api.get(f"/android/{before['kyaraben_avm.phone']}").json()["avm"]["avm_name"] == "phone two"
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_a_new_hwconfig_replaces_the_vm_and_the_old_one_is_deleted(running_clock, kyaraben, workdir):
    write_lab(workdir)
    assert workdir.apply().exit_code == 0
    old = ids(workdir)["kyaraben_avm.phone"]
    write_lab(workdir, replace={"width: 800, height: 600, enable_gps: 1": "width: 1280, height: 800, enable_gps: 1"})
    plan = workdir.plan()
    assert "kyaraben_avm.phone must be replaced" in plan.stdout
    assert re.search(
        r'~ hwconfig\s+= \{.*"width": 800\} -> \{"width": 1280, .*\}  # forces replacement', plan.stdout
    ), plan.stdout
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert kyaraben.api().get(f"/android/{old}").status_code == 404
    assert ids(workdir)["kyaraben_avm.phone"] != old


def test_a_vm_deleted_behind_labforms_back_is_planned_again(running_clock, kyaraben, workdir):
    """Refresh reads the 404 as gone: the plan creates the VM again, and the apply does."""
    write_lab(workdir)
    assert workdir.apply().exit_code == 0
    vm = ids(workdir)["kyaraben_avm.phone"]
    assert kyaraben.api().delete(f"/android/{vm}").status_code == 202
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2
    assert "kyaraben_avm.phone will be created" in plan.stdout
    assert "gone from the cloud" in plan.stdout
    assert workdir.apply().exit_code == 0
    assert ids(workdir)["kyaraben_avm.phone"] != vm
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_another_users_objects_read_as_gone_never_as_present(running_clock, kyaraben, workdir, monkeypatch):
    """The doc answers 404 for objects of other users: as someone else, the plan must create
    everything again rather than call the state up to date."""
    write_lab(workdir)
    assert workdir.apply().exit_code == 0
    monkeypatch.setenv("KYARABEN_AUTH_VALUE", "someone-else")
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "Plan: 4 to add, 0 to change, 0 to destroy." in plan.stdout


def test_the_auth_header_is_a_setting_and_a_401_is_a_clean_error(running_clock, kyaraben, workdir):
    """A proxy's header name can be set; kyaraben itself then sees no X-Auth-UserId and answers 401."""
    write_lab(workdir)
    text = (
        workdir.path.joinpath("main.yaml")
        .read_text()
        .replace("    poll: 0.2s\n", "    poll: 0.2s\n    auth_header: X-Proxy-Token\n", 1)
    )
    workdir.write(text)
    result = workdir.plan()
    assert result.exit_code == 1
    assert re.search(
        r"kyaraben: (list|read) \w+ failed \(401\): Missing authentication header; check the provider's credentials",
        result.output,
    ), result.output
    assert "labform-sandbox" not in result.output


def test_destroy_deletes_vms_before_their_project(running_clock, kyaraben, workdir):
    write_lab(workdir)
    assert workdir.apply().exit_code == 0
    made = ids(workdir)
    result = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert result.exit_code == 0, result.output
    api = kyaraben.api()
    assert api.get(f"/android/{made['kyaraben_avm.phone']}").status_code == 404
    assert api.get(f"/projects/{made['kyaraben_project.lab']}").status_code == 404


@pytest.mark.parametrize("variant", ["default", "delete-refused-400", "delete-refused-async"])
def test_a_project_holding_a_vm_labform_does_not_manage_is_refused_with_a_clear_error(
    variant, running_clock, kyaraben, workdir
):
    """However the server refuses (409, 400, or 202 then ERROR), the error names the VM in the way."""
    workdir.write(LAB.split("  kyaraben_apk.app:")[0])
    assert workdir.apply().exit_code == 0
    project = ids(workdir)["kyaraben_project.lab"]
    stranger = kyaraben.api().post("/android", json={"project_id": project, "image": "kitkat-phone"}).json()["avm_id"]
    result = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert result.exit_code == 1
    assert re.search(
        rf"kyaraben refused to delete project {project} \(.*\): .*it holds VMs {stranger}", result.output
    ), result.output
    assert "kyaraben_project.lab" in resources_of(workdir)


@pytest.mark.parametrize("variant", ["any-campaign-blocks-delete"])
def test_where_finished_campaigns_block_a_project_delete_the_error_names_them(
    variant, running_clock, kyaraben, workdir
):
    """A server reading "campaigns" as any campaign refuses while one is there: the campaign this
    destroy kept by default (``on_destroy: keep`` unset) is deleted after all; one labform does not
    manage is left alone, and the error names it."""
    write_lab(workdir, WAIT)
    assert workdir.apply().exit_code == 0
    campaign, project = ids(workdir)["kyaraben_campaign.smoke"], ids(workdir)["kyaraben_project.lab"]
    api = kyaraben.api()
    body = {
        "campaign_name": "stranger",
        "tests": [{"image": "kitkat-tablet", "apks": [ids(workdir)["kyaraben_apk.app"]]}],
    }
    stranger = api.post(f"/projects/{project}/campaigns", json=body).json()["campaign_id"]
    kyaraben.app.clock.advance(5)  # the stranger's one test ends (in ERROR: it has no test package)
    result = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert result.exit_code == 1
    assert f"deleting campaign {campaign}, kept on destroy by default" in result.output, result.output
    assert re.search(rf"it holds campaigns {stranger} \((READY|ERROR)\)", result.output), result.output
    assert api.get(f"/projects/{project}/campaigns/{campaign}").status_code == 404
    assert api.delete(f"/projects/{project}/campaigns/{stranger}").status_code == 204
    result = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert result.exit_code == 0, result.output
