"""kyaraben apks, camera files and test sources: named by their hash, uploaded only when new,
adopted when the project already has the bytes, replaced or updated in place when they change."""

from __future__ import annotations

import hashlib
import re
import shutil

from labform.providers.emulation import tiny_png
from tests.conftest import Workdir
from tests.functional.kyaraben.conftest import KYARABEN_PROVIDER, PROJECT_WITH_APK, resources_of, write_apk, write_dsl

UPLOADS = (
    PROJECT_WITH_APK
    + """  kyaraben_camera_file.logo:
    project: ${kyaraben_project.lab.id}
    path: LOGO
  kyaraben_testsource.checkout:
    project: ${kyaraben_project.lab.id}
    path: DSL
    COMPILE
"""
)


def write_uploads(
    workdir,
    app_version: str = "1.0",
    dsl: str | None = None,
    compile: bool = True,
    project: str = "${kyaraben_project.lab.id}",
):
    app = write_apk(workdir.path, version=app_version)
    logo = workdir.path / "logo.png"
    logo.write_bytes(tiny_png(7))
    source = write_dsl(workdir.path) if dsl is None else write_dsl(workdir.path, text=dsl)
    text = UPLOADS.replace("APP", str(app)).replace("LOGO", str(logo)).replace("DSL", str(source))
    workdir.write(
        text.replace("COMPILE", "compile: true" if compile else "").replace("${kyaraben_project.lab.id}", project)
    )
    return app


def gone(response) -> bool:
    """Deleted, or being deleted (kyaraben shows DELETING for a while)."""
    return response.status_code == 404 or response.json()["apk"]["status"] in ("DELETING", "DELETED")


def uploads_to(kyaraben, path_end: str) -> list:
    return [r for r in kyaraben.app.log.matching("POST") if r.path.endswith(path_end)]


def test_an_apk_is_uploaded_under_its_hash_once_and_a_changed_one_replaces_it(running_clock, kyaraben, workdir):
    app = write_uploads(workdir)
    assert workdir.apply().exit_code == 0
    attrs = resources_of(workdir)["kyaraben_apk.app"]["attributes"]
    digest = hashlib.sha256(app.read_bytes()).hexdigest()
    assert (attrs["sha256"], attrs["filename"], attrs["package"], attrs["status"]) == (
        digest,
        f"app-{digest[:16]}.apk",
        "com.labform.sample",
        "READY",
    )
    listed = kyaraben.api().get(f"/projects/{attrs['project']}/apk").json()["apks"]
    assert [a["filename"] for a in listed if not a["testsource_id"]] == [attrs["filename"]]

    kyaraben.app.log.clear()
    assert workdir.apply().exit_code == 0
    assert kyaraben.app.log.bytes_received("/apk") == 0

    write_uploads(workdir, app_version="2.0")
    plan = workdir.plan()
    assert "kyaraben_apk.app must be replaced" in plan.stdout
    assert re.search(
        rf'~ filename\s+= "app-{digest[:16]}.apk" -> "app-[0-9a-f]{{16}}.apk"  # forces replacement', plan.stdout
    )
    assert workdir.apply().exit_code == 0
    assert len(uploads_to(kyaraben, "/apk")) == 1
    assert gone(kyaraben.api().get(f"/projects/{attrs['project']}/apk/{attrs['id']}"))


def test_the_same_bytes_already_in_the_project_are_adopted_not_uploaded(running_clock, kyaraben, workdir, tmp_path):
    """A second workspace pointing at the same project finds the apk by its hashed name."""
    write_uploads(workdir)
    assert workdir.apply().exit_code == 0
    project = resources_of(workdir)["kyaraben_project.lab"]["id"]
    other = Workdir(tmp_path / "other")
    other.path.mkdir()
    for name in ("app.apk", "logo.png", "checkout.aic"):
        shutil.copy(workdir.path / name, other.path / name)
    write_uploads(other, project=project)
    text = other.path.joinpath("main.yaml").read_text().split("  kyaraben_apk.app:")[1]
    other.write(KYARABEN_PROVIDER + "resources:\n  kyaraben_apk.app:" + text.split("  kyaraben_testsource")[0])
    kyaraben.app.log.clear()
    plan = other.plan()
    assert "kyaraben_apk.app will be adopted" in plan.stdout
    assert "kyaraben_camera_file.logo will be adopted" in plan.stdout
    assert other.apply().exit_code == 0
    assert uploads_to(kyaraben, "/apk") == uploads_to(kyaraben, "/camera") == []
    assert resources_of(other)["kyaraben_apk.app"]["id"] == resources_of(workdir)["kyaraben_apk.app"]["id"]
    assert other.run("destroy", str(other.path), "--auto-approve").exit_code == 0
    apk = resources_of(workdir)["kyaraben_apk.app"]["id"]
    assert kyaraben.api().get(f"/projects/{project}/apk/{apk}").status_code == 200  # adopted: only forgotten


def test_an_apk_the_cloud_cannot_read_fails_with_its_reason_is_tainted_and_replaced_next_time(
    running_clock, kyaraben, workdir
):
    """An upload the cloud marks ERROR fails the apply with its reason and is recorded tainted; the next
    plan replaces it (the broken upload is deleted, the fixed file uploaded), leaving no twin."""
    write_uploads(workdir)
    (workdir.path / "app.apk").write_bytes(b"this is not an apk")
    result = workdir.apply()
    assert result.exit_code == 1
    assert re.search(
        r"kyaraben: upload apk failed: app-[0-9a-f]{16}\.apk is ERROR \(cannot read AndroidManifest\.xml: not a zip archive\)",
        result.output,
    )
    broken = resources_of(workdir)["kyaraben_apk.app"]
    assert broken["tainted"] is True
    project = resources_of(workdir)["kyaraben_project.lab"]["id"]
    plan = workdir.plan()
    assert "kyaraben_apk.app must be replaced" in plan.stdout and "tainted" in plan.stdout

    write_apk(workdir.path)
    fixed = workdir.apply()
    assert fixed.exit_code == 0, fixed.output
    apks = [
        a
        for a in kyaraben.api().get(f"/projects/{project}/apk").json()["apks"]
        if not a["testsource_id"] and a["status"] not in ("DELETING", "DELETED")
    ]
    assert [a["apk_id"] for a in apks] == [resources_of(workdir)["kyaraben_apk.app"]["id"]] and apks[0][
        "apk_id"
    ] != broken["id"]
    assert resources_of(workdir)["kyaraben_apk.app"]["tainted"] is False


def test_a_camera_file_is_uploaded_and_ready(running_clock, kyaraben, workdir):
    write_uploads(workdir)
    assert workdir.apply().exit_code == 0
    logo = resources_of(workdir)["kyaraben_camera_file.logo"]
    listed = kyaraben.api().get(f"/projects/{logo['attributes']['project']}/camera").json()["camera_files"]
    assert [(c["camera_id"], c["status"]) for c in listed] == [(logo["id"], "READY")]
    assert logo["attributes"]["filename"].startswith("logo-")


def test_a_test_source_is_compiled_and_a_new_content_is_put_in_place_and_recompiled(running_clock, kyaraben, workdir):
    """The id stays, the content changes with PUT, and the new compilation's apk replaces the old one."""
    write_uploads(workdir)
    assert workdir.apply().exit_code == 0
    source = resources_of(workdir)["kyaraben_testsource.checkout"]
    first_apk = source["attributes"]["apk_id"]
    assert (source["attributes"]["apk_status"], source["attributes"]["compile"]) == ("READY", True)

    write_uploads(workdir, dsl='Feature: "Refunds"\n   Scenario: "Refund"\n   End\nEnd\n')
    plan = workdir.plan()
    assert "kyaraben_testsource.checkout will be updated in-place" in plan.stdout
    kyaraben.app.log.clear()
    assert workdir.apply().exit_code == 0
    updated = resources_of(workdir)["kyaraben_testsource.checkout"]
    assert updated["id"] == source["id"]
    assert updated["attributes"]["apk_id"] not in ("", first_apk)
    api, project = kyaraben.api(), source["attributes"]["project"]
    assert api.get(f"/projects/{project}/testsources/{source['id']}").text.startswith('Feature: "Refunds"')
    assert gone(api.get(f"/projects/{project}/apk/{first_apk}"))
    assert [
        r.method for r in kyaraben.app.log.matching(path_contains=f"/testsources/{source['id']}") if r.method != "GET"
    ] == ["PUT", "POST"]
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_a_source_that_does_not_compile_fails_with_the_reason_and_is_kept(running_clock, kyaraben, workdir):
    write_uploads(workdir, dsl="just words\n")
    result = workdir.apply()
    assert result.exit_code == 1
    assert (
        "kyaraben: compile test source failed: checkout.aic: ERROR (COMPILING DSL: no Feature found in the test source)"
        in result.output
    )
    assert resources_of(workdir)["kyaraben_testsource.checkout"]["attributes"]["compile"] is False
    write_uploads(workdir)
    assert "kyaraben_testsource.checkout will be updated in-place" in workdir.plan().stdout
    assert workdir.apply().exit_code == 0


def test_setting_a_computed_argument_is_a_plan_error(kyaraben, workdir):
    write_uploads(workdir)
    workdir.write(
        workdir.path.joinpath("main.yaml")
        .read_text()
        .replace("    compile: true", "    compile: true\n    sha256: abc")
    )
    result = workdir.plan()
    assert result.exit_code == 1
    assert re.search(
        r"main\.yaml:\d+:5: kyaraben_testsource\.checkout: sha256 is computed from path; remove it from the plan",
        result.stderr,
    )


def test_a_test_source_is_imported_by_project_and_id_and_an_upload_is_adopted_instead(running_clock, kyaraben, workdir):
    write_uploads(workdir)
    assert workdir.apply().exit_code == 0
    source = resources_of(workdir)["kyaraben_testsource.checkout"]
    project = source["attributes"]["project"]
    for address in ("kyaraben_testsource.checkout", "kyaraben_apk.app"):
        assert workdir.run("state", "rm", address, str(workdir.path)).exit_code == 0

    wrong = workdir.run("import", "kyaraben_testsource.checkout", source["id"], str(workdir.path))
    assert wrong.exit_code == 1 and "give the id as PROJECT_ID/ID" in wrong.output
    imported = workdir.run("import", "kyaraben_testsource.checkout", f"{project}/{source['id']}", str(workdir.path))
    assert imported.exit_code == 0, imported.output
    assert resources_of(workdir)["kyaraben_testsource.checkout"]["attributes"]["filename"] == "checkout.aic"

    apk = workdir.run("import", "kyaraben_apk.app", "anything", str(workdir.path))
    assert apk.exit_code == 1 and "an upload of the same file is adopted by its name" in apk.output
    plan = workdir.plan()
    assert "kyaraben_apk.app will be adopted" in plan.stdout
    assert "kyaraben_testsource.checkout will be updated in-place" in plan.stdout
