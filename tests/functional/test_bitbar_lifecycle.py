"""Plan and apply Bitbar projects, configs, parameters and device groups end to end."""

from __future__ import annotations

import json
import re

from tests.conftest import BITBAR_PROVIDER, state_of

PLAN = (
    BITBAR_PROVIDER
    + """
resources:
  bitbar_project.checkout:
    name: Checkout flow
    type: ANDROID
    description: first
  bitbar_device_group.smoke:
    name: Smoke phones
    os_type: ANDROID
    devices: [337, 304]
  bitbar_project_config.checkout:
    project: ${bitbar_project.checkout.id}
    scheduler: PARALLEL
    used_device_group: ${bitbar_device_group.smoke.id}
  bitbar_config_parameter.devel:
    project: ${bitbar_project.checkout.id}
    key: devel
    value: "true"
data:
  bitbar_devices.sony:
    search: Sony
outputs:
  project_id: ${bitbar_project.checkout.id}
  sony: ${data.bitbar_devices.sony.ids}
"""
)


def project_id(workdir) -> str:
    return state_of(workdir)["resources"]["bitbar_project.checkout"]["id"]


def test_apply_creates_every_object_and_a_second_plan_is_empty(bitbar, workdir):
    """A first apply creates all four objects; the cloud shows them; re-planning shows nothing to do."""
    workdir.write(PLAN)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert "Apply complete! Resources: 4 added, 0 changed, 0 destroyed." in result.stdout

    resources = state_of(workdir)["resources"]
    api = bitbar.api()
    project = api.get(f"/api/v2/me/projects/{project_id(workdir)}").json()
    assert (project["name"], project["type"], project["description"]) == ("Checkout flow", "ANDROID", "first")
    group_id = resources["bitbar_device_group.smoke"]["id"]
    members = api.get(f"/api/v2/me/device-groups/{group_id}/devices").json()["data"]
    assert sorted(d["id"] for d in members) == [304, 337]
    config = api.get(f"/api/v2/me/projects/{project_id(workdir)}/config").json()
    assert (config["scheduler"], str(config["usedDeviceGroupId"])) == ("PARALLEL", group_id)
    parameters = api.get(f"/api/v2/me/projects/{project_id(workdir)}/config/parameters").json()["data"]
    assert [(p["key"], p["value"]) for p in parameters] == [("devel", "true")]
    assert state_of(workdir)["outputs"]["project_id"] == project["id"]
    assert 304 in state_of(workdir)["outputs"]["sony"]

    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


def test_second_apply_changes_nothing(bitbar, workdir):
    """Applying the same plan twice sends no write request the second time."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    bitbar.app.log.clear()
    second = workdir.apply()
    assert second.exit_code == 0, second.output
    writes = [r for r in bitbar.app.log.all() if r.method != "GET"]
    assert writes == []


def test_changing_one_attribute_plans_exactly_one_in_place_update(bitbar, workdir):
    """Editing a project's description is an in-place update of that one attribute."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    workdir.write(PLAN.replace("description: first", "description: second"))
    result = workdir.plan("--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "# bitbar_project.checkout will be updated in-place" in result.stdout
    assert re.search(r'~ description\s+= "first" -> "second"', result.stdout)
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in result.stdout

    assert workdir.apply().exit_code == 0
    assert bitbar.api().get(f"/api/v2/me/projects/{project_id(workdir)}").json()["description"] == "second"


def test_changing_type_replaces_the_project_and_its_dependents(bitbar, workdir):
    """A project's type cannot change remotely, so the plan replaces it and says why."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    old_id = project_id(workdir)
    workdir.write(PLAN.replace("    type: ANDROID\n    description", "    type: IOS\n    description"))
    result = workdir.plan()
    assert "# bitbar_project.checkout must be replaced" in result.stdout
    assert re.search(r'~ type\s+= "ANDROID" -> "IOS"  # forces replacement', result.stdout)
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output
    new_id = project_id(workdir)
    assert new_id != old_id
    assert bitbar.api().get(f"/api/v2/me/projects/{old_id}").status_code == 404
    assert bitbar.api().get(f"/api/v2/me/projects/{new_id}").json()["type"] == "IOS"
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_removing_a_resource_from_the_plan_destroys_it(bitbar, workdir):
    """A parameter dropped from the plan is deleted remotely and forgotten."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    without = PLAN.split("  bitbar_config_parameter.devel:")[0] + "data:" + PLAN.split("data:")[1]
    workdir.write(without)
    result = workdir.plan()
    assert "# bitbar_config_parameter.devel will be destroyed" in result.stdout
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in result.stdout
    assert workdir.apply().exit_code == 0
    parameters = bitbar.api().get(f"/api/v2/me/projects/{project_id(workdir)}/config/parameters").json()
    assert parameters["total"] == 0
    assert "bitbar_config_parameter.devel" not in state_of(workdir)["resources"]


def test_out_of_band_changes_show_as_drift(bitbar, workdir):
    """Someone renames the project and removes a device in the web UI: plan reports both and exits 2."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    api = bitbar.api()
    api.post(f"/api/v2/me/projects/{project_id(workdir)}", data={"name": "Renamed by hand"})
    group_id = state_of(workdir)["resources"]["bitbar_device_group.smoke"]["id"]
    api.delete(f"/api/v2/me/device-groups/{group_id}/devices/304")

    result = workdir.plan("--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "objects have changed outside of labform" in result.stdout
    assert re.search(r'~ name\s+= "Renamed by hand" -> "Checkout flow"', result.stdout)
    assert "~ devices" in result.stdout

    assert workdir.apply().exit_code == 0
    members = api.get(f"/api/v2/me/device-groups/{group_id}/devices").json()["data"]
    assert sorted(d["id"] for d in members) == [304, 337]


def test_object_deleted_outside_labform_is_created_again(bitbar, workdir):
    """A device group deleted by hand is planned for creation, with the reason shown."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    group_id = state_of(workdir)["resources"]["bitbar_device_group.smoke"]["id"]
    bitbar.api().delete(f"/api/v2/me/device-groups/{group_id}")
    result = workdir.plan()
    assert "bitbar_device_group.smoke will be created (gone from the cloud" in result.stdout


def test_refresh_reads_through_list_endpoints(bitbar, workdir):
    """Refresh lists projects page by page instead of one GET per object (two here: one alone
    in its scope is read on its own, tests/functional/test_request_counts.py)."""
    second = "resources:\n  bitbar_project.second:\n    name: Second\n    type: ANDROID\n"
    workdir.write(PLAN.replace("resources:\n", second, 1))
    assert workdir.apply().exit_code == 0
    bitbar.app.log.clear()
    assert workdir.plan().exit_code == 0
    reads = [r.path for r in bitbar.app.log.all()]
    assert f"/api/v2/me/projects/{project_id(workdir)}" not in reads
    assert "/api/v2/me/projects" in reads


def test_existing_object_with_the_same_name_is_reported_for_import(bitbar, workdir):
    """A project that already exists remotely is named in a warning with the import command."""
    existing = bitbar.api().post("/api/v2/me/projects", data={"name": "Checkout flow", "type": "ANDROID"}).json()
    workdir.write(PLAN)
    result = workdir.plan()
    assert f"labform import bitbar_project.checkout {existing['id']}" in result.stdout

    imported = workdir.run("import", "bitbar_project.checkout", str(existing["id"]), str(workdir.path))
    assert imported.exit_code == 0, imported.output
    after = workdir.plan()
    assert "bitbar_project.checkout will be updated in-place" in after.stdout  # description differs
    assert "bitbar_project.checkout will be created" not in after.stdout


def test_destroy_removes_everything_in_reverse_order(bitbar, workdir):
    """Destroy deletes dependents before what they depend on, and empties state."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    pid = project_id(workdir)
    bitbar.app.log.clear()
    result = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Destroy complete! Resources: 0 added, 0 changed, 4 destroyed." in result.stdout
    deletes = [r.path for r in bitbar.app.log.all() if r.method == "DELETE"]
    parameter_delete = next(i for i, p in enumerate(deletes) if "/config/parameters/" in p)
    assert parameter_delete < deletes.index(f"/api/v2/me/projects/{pid}")
    assert state_of(workdir)["resources"] == {}


def test_a_failed_change_skips_its_dependents_and_others_finish(bitbar, workdir):
    """A device group with an unknown device fails; the config that uses it is skipped; the parameter is created."""
    workdir.write(PLAN.replace("devices: [337, 304]", "devices: [999999]"))
    result = workdir.apply()
    assert result.exit_code == 1
    assert "bitbar_device_group.smoke: failed: bitbar: add device to group failed" in result.stdout
    assert "bitbar_project_config.checkout: skipped because bitbar_device_group.smoke failed" in result.stdout
    assert "Apply incomplete!" in result.stdout
    resources = state_of(workdir)["resources"]
    assert "bitbar_config_parameter.devel" in resources
    assert "bitbar_project_config.checkout" not in resources


MANY = """
resources:
""" + "".join(f"  bitbar_project.p{i}:\n    name: P{i}\n    type: ANDROID\n" for i in range(4))


def _overlapping(records) -> bool:
    return any(
        a.started < b.finished and b.started < a.finished for i, a in enumerate(records) for b in records[i + 1 :]
    )


def test_independent_resources_are_created_in_parallel(emulator_options, bitbar, workdir):
    """With --parallelism 4 independent creates overlap in time; with 1 they never do."""
    emulator_options.latency = 0.2
    workdir.write(BITBAR_PROVIDER + MANY)
    assert workdir.apply("--parallelism", "1").exit_code == 0
    serial = bitbar.app.log.matching("POST", "/api/v2/me/projects")
    assert len(serial) == 4 and not _overlapping(serial)

    workdir.run("destroy", str(workdir.path), "--auto-approve")
    bitbar.app.log.clear()
    assert workdir.apply("--parallelism", "4").exit_code == 0
    parallel = bitbar.app.log.matching("POST", "/api/v2/me/projects")
    assert len(parallel) == 4 and _overlapping(parallel)


def test_a_no_op_apply_does_not_touch_state(bitbar, workdir):
    """Applying an unchanged plan keeps the serial, so saved plans made meanwhile stay valid."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    serial = state_of(workdir)["serial"]
    assert workdir.apply().exit_code == 0
    assert state_of(workdir)["serial"] == serial


def test_refresh_only_plan_reports_drift_with_exit_2(bitbar, workdir):
    """plan --refresh-only shows what changed outside labform and plans no remote change."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    assert workdir.plan("--refresh-only", "--detailed-exitcode").exit_code == 0
    bitbar.api().post(f"/api/v2/me/projects/{project_id(workdir)}", data={"description": "edited"})
    result = workdir.plan("--refresh-only", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "Apply this refresh-only plan to record these changes in state" in result.stdout
    assert "# bitbar_project.checkout changed outside labform" in result.stdout
    assert '~ description = "first" -> "edited"' in result.stdout
    document = json.loads(workdir.plan("--refresh-only", "-json").stdout)
    drifted = [c["address"] for c in document["resource_changes"] if c["change"]["actions"] != ["no-op"]]
    assert drifted == ["bitbar_project.checkout"]
