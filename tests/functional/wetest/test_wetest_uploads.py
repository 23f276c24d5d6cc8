"""WeTest apps and scripts end to end: md5 adoption, replacement, plan-time file errors, the ret envelope, secrets, lookups."""

from __future__ import annotations

import re

import pytest

from tests.functional.wetest.conftest import (
    SECRET_KEY,
    UPLOADS,
    WETEST_PROVIDER,
    resources_of,
    state_of,
    write_app,
)


def write_plan(workdir, app_version: str = "1.0", app_name: str = "app.apk", project: str = "pj-demo") -> None:
    app = write_app(workdir, app_name, app_version)
    script = workdir.path / "script.zip"
    script.write_bytes(b"PK appium script")
    workdir.write(UPLOADS.replace("APP", str(app)).replace("SCRIPT", str(script)).replace("pj-demo", project))


def test_apply_uploads_both_files_and_a_second_plan_is_empty(wetest, workdir):
    """The app and script land on the cloud with their computed attributes; re-planning shows nothing to do."""
    write_plan(workdir)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert "Apply complete! Resources: 2 added, 0 changed, 0 destroyed." in result.stdout
    app = resources_of(workdir)["wetest_app.app"]["attributes"]
    cloud_app = (
        wetest.api().get("/platform/upload/info", params={"project": "pj-demo", "fid": app["fid"]}).json()["data"]
    )
    assert (app["md5"], app["size"], app["package"], app["version"]) == (
        cloud_app["md5"],
        cloud_app["size"],
        "com.labform.sample",
        "1.0",
    )
    script_id = resources_of(workdir)["wetest_script.appium"]["id"]
    assert wetest.api().get(f"/scripts/{script_id}").json()["script"]["project"] == "pj-demo"

    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout


def test_an_app_already_in_the_project_is_adopted_by_md5_even_with_an_empty_state(wetest, workdir):
    """With the state gone, the plan says the app with the same md5 will be adopted; apply uploads
    nothing, keeps the fid, marks it adopted, and destroy forgets it instead of deleting it."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    fid = resources_of(workdir)["wetest_app.app"]["id"]
    workdir.state_file.unlink()
    wetest.app.log.clear()

    plan = workdir.plan()
    assert "wetest_app.app will be adopted" in plan.stdout
    assert "1 to adopt" in plan.stdout
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert wetest.posts("/platform/upload/storage") == []
    assert wetest.app.log.bytes_received("/platform/upload/storage") == 0
    assert resources_of(workdir)["wetest_app.app"]["id"] == fid
    assert resources_of(workdir)["wetest_app.app"]["adopted"] is True

    assert workdir.run("destroy", str(workdir.path), "--auto-approve").exit_code == 0
    assert wetest.api().get("/platform/upload/info", params={"project": "pj-demo", "fid": fid}).json()["ret"] == 0


def test_a_changed_app_is_replaced_showing_the_old_and_new_md5(wetest, workdir):
    """A new build is one upload, planned as a replace that names both hashes; the old app is deleted."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    old = resources_of(workdir)["wetest_app.app"]["attributes"]
    write_plan(workdir, app_version="2.0")
    plan = workdir.plan()
    assert "wetest_app.app must be replaced" in plan.stdout
    assert re.search(rf'~ md5\s+= "{old["md5"]}" -> "[0-9a-f]{{32}}"  # forces replacement', plan.stdout)
    wetest.app.log.clear()
    assert workdir.apply().exit_code == 0
    assert len(wetest.posts("/platform/upload/storage")) == 1
    assert (
        wetest.api().get("/platform/upload/info", params={"project": "pj-demo", "fid": old["fid"]}).json()["ret"] != 0
    )
    assert resources_of(workdir)["wetest_app.app"]["attributes"]["version"] == "2.0"


def test_a_changed_script_is_replaced(wetest, workdir):
    """New script content is planned as a replace: uploaded as a new script, the old one deleted."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    old_id = resources_of(workdir)["wetest_script.appium"]["id"]
    (workdir.path / "script.zip").write_bytes(b"PK appium script v2")
    assert "wetest_script.appium must be replaced" in workdir.plan().stdout
    assert workdir.apply().exit_code == 0
    assert resources_of(workdir)["wetest_script.appium"]["id"] != old_id
    assert wetest.api().get(f"/scripts/{old_id}").json()["ret"] == 1002


@pytest.mark.parametrize(
    "app_name, message",
    [
        ("missing.apk", r"cannot read '.*missing\.apk': No such file or directory"),
        ("app.exe", r"'app\.exe' is not a kind of file the cloud accepts \(\.apk, \.aab, \.ipa\)"),
    ],
    ids=["missing file", "unsupported extension"],
)
def test_an_unusable_app_file_is_a_plan_error_at_the_path_line(app_name, message, wetest, workdir):
    """The plan fails at the path's line, before anything is uploaded."""
    write_plan(workdir, app_name=app_name)
    if app_name == "missing.apk":
        (workdir.path / app_name).unlink()
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert re.search(r"main\.yaml:10:5: wetest_app\.app: " + message, result.stderr), result.stderr
    assert [r for r in wetest.app.log.all() if r.method != "GET"] == []


def test_a_nonzero_ret_under_http_200_fails_with_the_clouds_message(wetest, workdir):
    """WeTest answers an unknown project with HTTP 200 and ret 1002: the apply fails with that msg."""
    write_plan(workdir, project="pj-nope")
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert "wetest: upload app failed (1002): project pj-nope not found" in result.output


def test_destroy_deletes_the_app_and_the_script(wetest, workdir):
    """Destroy deletes both uploads from the cloud (WeTest then answers ret 1002 for them)."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    resources = resources_of(workdir)
    assert workdir.run("destroy", str(workdir.path), "--auto-approve").exit_code == 0
    api = wetest.api()
    assert (
        api.get(
            "/platform/upload/info", params={"project": "pj-demo", "fid": resources["wetest_app.app"]["id"]}
        ).json()["ret"]
        == 1002
    )
    assert api.get(f"/scripts/{resources['wetest_script.appium']['id']}").json()["ret"] == 1002


def test_an_app_deleted_outside_labform_is_planned_again(wetest, workdir):
    """Refresh notices the app is gone (ret 1002) and plans to create it again."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    wetest.api().delete(f"/platform/upload/info/{resources_of(workdir)['wetest_app.app']['id']}")
    plan = workdir.plan()
    assert "wetest_app.app will be created (gone from the cloud (deleted outside labform))" in plan.stdout


def test_the_secret_key_never_appears_in_output_state_or_logs(wetest, workdir):
    """Plan, apply (with debug logs) and the state file never show the SecretKey."""
    write_plan(workdir)
    outputs = [
        workdir.plan(),
        workdir.run("--log-level", "DEBUG", "apply", str(workdir.path), "--auto-approve"),
        workdir.plan("-json"),
    ]
    assert outputs[1].exit_code == 0, outputs[1].output
    assert "DEBUG" in outputs[1].stderr
    for result in outputs:
        assert SECRET_KEY not in result.output
    assert SECRET_KEY not in workdir.state_file.read_text()


LOOKUPS = (
    WETEST_PROVIDER
    + """
data:
  wetest_projects.shop: {name: Shop App}
  wetest_clouds.all: {}
  wetest_devices.galaxy: {cloud_id: 1, model: GALAXY, version: "14"}
  wetest_model_lists.shop:
    project: ${data.wetest_projects.shop.id}
outputs:
  shop: ${data.wetest_projects.shop.id}
  clouds: ${data.wetest_clouds.all.ids}
  galaxy: ${data.wetest_devices.galaxy.ids}
  galaxy_models: ${data.wetest_devices.galaxy.model_ids}
  lists: ${data.wetest_model_lists.shop.lists}
"""
)


def test_lookups_find_projects_clouds_devices_and_model_lists(wetest, workdir):
    """A project id by name, the clouds, devices filtered by model and version, a project's model lists."""
    workdir.write(LOOKUPS)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    outputs = state_of(workdir)["outputs"]
    assert outputs["shop"] == "pj-shop"
    assert outputs["clouds"] == [1, 2]
    assert outputs["galaxy"] == [10001, 10002] and outputs["galaxy_models"] == [501]
    assert [(m["id"], m["name"], m["kind"], m["platform"]) for m in outputs["lists"]] == [
        (303, "Samsung flagships", "models", "android")
    ]


def test_an_unknown_project_name_fails_the_lookup_with_the_names_there_are(wetest, workdir):
    """A name no project has fails the plan, listing the names the account has."""
    workdir.write(WETEST_PROVIDER + "data:\n  wetest_projects.x: {name: Nope}\n")
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert "no project named 'Nope' (projects: 'Demo Project', 'Shop App')" in result.stderr


def test_wrong_credentials_fail_with_the_clouds_message_and_no_secret(wetest, workdir, monkeypatch):
    """A 401 names what failed; the (wrong) SecretKey given is not echoed."""
    monkeypatch.setenv("WETEST_SECRET_KEY", "wrong-secret-key-value")
    workdir.write(LOOKUPS)
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert re.search(
        r"wetest: list \w+ failed \(401\): authentication failed: invalid SecretId:SecretKey", result.stderr
    )
    assert "wrong-secret-key-value" not in result.output
