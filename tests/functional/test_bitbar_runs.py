"""Bitbar uploads by content hash, runs as resources (wait, gate, JUnit, artifacts), tags, sharings, notifications."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.apps import build_apk, text_manifest
from tests.conftest import BITBAR_PROVIDER, state_of

PLAN = (
    BITBAR_PROVIDER
    + """
resources:
  bitbar_project.ci:
    name: CI
    type: ANDROID
  bitbar_device_group.ci:
    name: CI phones
    os_type: ANDROID
    devices: [304, 321, 337]
  bitbar_project_config.ci:
    project: ${bitbar_project.ci.id}
    mode: FULL_RUN
    used_device_group: ${bitbar_device_group.ci.id}
  bitbar_file.app:
    project: ${bitbar_project.ci.id}
    kind: application
    path: APP
  bitbar_file.tests:
    project: ${bitbar_project.ci.id}
    kind: test
    path: TESTS
  bitbar_run.smoke:
    project: ${bitbar_project.ci.id}
    name: smoke
    depends_on: [bitbar_project_config.ci]
    triggers:
      - ${bitbar_file.app.sha256}
      - ${bitbar_file.tests.sha256}
    RUN_OPTIONS
"""
)

WAIT = "wait: {timeout: 60s, poll: 1s}"


def write_plan(workdir, run_options: str = WAIT, app_version: str = "1.0") -> None:
    app = workdir.path / "app.apk"
    app.write_bytes(build_apk(text_manifest("com.labform.sample", app_version)))
    tests = workdir.path / "tests.apk"
    tests.write_bytes(build_apk(text_manifest("com.labform.sample.test", "1.0", launcher=False)))
    workdir.write(
        PLAN.replace("APP", str(app))
        .replace("TESTS", str(tests))
        .replace("RUN_OPTIONS", run_options.replace("\n", "\n    "))
    )


def run_starts(bitbar) -> int:
    return len([r for r in bitbar.app.log.matching("POST") if re.fullmatch(r"/api/v2/me/projects/\d+/runs", r.path)])


def test_unchanged_files_are_not_uploaded_again_and_a_changed_one_once(running_clock, bitbar, workdir):
    """A second apply sends zero upload bytes; a new app version is one upload, shown as a replace with both hashes."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    first_bytes = bitbar.app.log.bytes_received("/files/")
    assert first_bytes > 0
    bitbar.app.log.clear()
    assert workdir.apply().exit_code == 0
    assert bitbar.app.log.bytes_received("/files/") == 0

    old_hash = state_of(workdir)["resources"]["bitbar_file.app"]["attributes"]["sha256"]
    write_plan(workdir, app_version="2.0")
    plan = workdir.plan()
    assert "bitbar_file.app must be replaced" in plan.stdout
    assert re.search(rf'~ sha256\s+= "{old_hash}" -> "[0-9a-f]{{64}}"  # forces replacement', plan.stdout)
    bitbar.app.log.clear()
    assert workdir.apply().exit_code == 0
    uploads = bitbar.app.log.matching("POST", "/files/")
    assert [u.path.rsplit("/", 1)[1] for u in uploads] == ["application"]


def test_missing_file_is_a_plan_error_naming_the_line(bitbar, workdir):
    """A path that does not exist fails the plan at the path's line, before anything is created."""
    write_plan(workdir)
    (workdir.path / "app.apk").unlink()
    result = workdir.plan()
    assert result.exit_code == 1
    assert re.search(
        r"main\.yaml:21:5: bitbar_file\.app: cannot read '.*app\.apk': No such file or directory", result.stderr
    )
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []


def test_run_starts_once_and_again_only_for_new_triggers(running_clock, bitbar, workdir):
    """Re-applying the same plan starts no run; a new app (a new trigger) starts one, the old stays on the cloud."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    assert workdir.apply().exit_code == 0
    assert run_starts(bitbar) == 1
    first_run = state_of(workdir)["resources"]["bitbar_run.smoke"]["id"]

    write_plan(workdir, app_version="2.0")
    assert "bitbar_run.smoke must be replaced" in workdir.plan().stdout
    assert workdir.apply().exit_code == 0
    assert run_starts(bitbar) == 2
    project = state_of(workdir)["resources"]["bitbar_project.ci"]["id"]
    assert bitbar.api().get(f"/api/v2/me/projects/{project}/runs/{first_run}").status_code == 200


def test_renaming_a_run_updates_it_in_place(running_clock, bitbar, workdir):
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    workdir.write(workdir.path.joinpath("main.yaml").read_text().replace("name: smoke", "name: smoke v2"))
    plan = workdir.plan()
    assert "bitbar_run.smoke will be updated in-place" in plan.stdout
    assert workdir.apply().exit_code == 0
    run = state_of(workdir)["resources"]["bitbar_run.smoke"]
    project = state_of(workdir)["resources"]["bitbar_project.ci"]["id"]
    assert bitbar.api().get(f"/api/v2/me/projects/{project}/runs/{run['id']}").json()["displayName"] == "smoke v2"
    assert run_starts(bitbar) == 1


def test_wait_times_out_cleanly_and_keeps_the_run(bitbar, workdir, emulator_options):
    """On a frozen clock the run never finishes: the apply fails naming the run and its state, and records it;
    the next apply waits on the same run again (never a new one) and is green once it finished."""
    write_plan(workdir, "wait: {timeout: 1s, poll: 0.2s}")
    result = workdir.apply()
    assert result.exit_code == 1
    run_id = state_of(workdir)["resources"]["bitbar_run.smoke"]["id"]
    assert f"run {run_id} did not finish within 1s (last: WAITING" in result.stdout
    assert "the next apply waits for it again" in result.stdout
    assert "Apply incomplete!" in result.stdout
    assert "has not finished" in workdir.plan().stdout
    emulator_options.clock.advance(3600)
    again = workdir.apply()
    assert again.exit_code == 0, again.output
    assert state_of(workdir)["resources"]["bitbar_run.smoke"]["id"] == run_id
    assert run_starts(bitbar) == 1
    assert "No changes." in workdir.plan().stdout


def test_a_missed_gate_stays_red_on_every_apply_until_replaced(half_failing, bitbar, workdir):
    """A run below min_success_ratio fails the apply with the ratio and the failing devices. After that
    the missed gate is a failing check, not a change: plan -detailed-exitcode exits 0 and prints the
    error; re-applying starts nothing and fails again naming the check (a re-run CI job never turns
    green); --replace starts a new run."""
    write_plan(workdir, WAIT + "\ngate: {min_success_ratio: 0.95}")
    result = workdir.apply()
    assert result.exit_code == 1
    assert re.search(
        r"missed its gate: devices \d/\d succeeded \(success ratio 0\.\d\d, below 0\.95\); tests \d+/\d+ passed; failing devices: \w",
        result.stdout,
    )
    assert "bitbar_run.smoke" in state_of(workdir)["resources"]
    planned = workdir.plan("--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout
    assert re.search(
        r"Error: check bitbar_run\.smoke failed: run \d+ missed its gate: devices \d/\d succeeded", planned.stdout
    )
    for _ in range(2):
        again = workdir.apply()
        assert again.exit_code == 1, again.output
        assert "Apply failed! Resources: 0 added, 0 changed, 0 destroyed." in again.stdout
        assert "Error: check bitbar_run.smoke failed: run " in again.stderr
        assert "until its triggers change or you run 'labform apply --replace bitbar_run.smoke'" in again.stderr
    assert run_starts(bitbar) == 1
    replaced = workdir.apply("--replace", "bitbar_run.smoke")
    assert "bitbar_run.smoke: Replacing..." in replaced.stdout
    assert run_starts(bitbar) == 2


def test_gate_passes_when_every_device_succeeds(running_clock, bitbar, workdir):
    write_plan(workdir, WAIT + "\ngate: {min_success_ratio: 0.95}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert state_of(workdir)["resources"]["bitbar_run.smoke"]["attributes"]["success_ratio"] == 1.0


def test_gate_without_wait_is_a_plan_error(bitbar, workdir):
    write_plan(workdir, "gate: {min_success_ratio: 0.95}")
    result = workdir.plan()
    assert result.exit_code == 1
    assert "bitbar_run.smoke: a gate needs 'wait'" in result.stderr


def test_junit_has_one_testsuite_per_device_run_and_artifacts_are_downloaded(half_failing, bitbar, workdir):
    """The combined JUnit file names each device; logs, junit, reports and screenshots land on disk."""
    junit = workdir.path / "out" / "junit.xml"
    artifacts = workdir.path / "out" / "artifacts"
    write_plan(workdir, WAIT + f"\njunit: {junit}\nartifacts: {{dir: {artifacts}}}")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == 3
    assert all(int(s.get("tests")) == len(s.findall("testcase")) > 0 for s in suites)
    assert sum(int(s.get("failures")) for s in suites) > 0
    device_runs = state_of(workdir)["resources"]["bitbar_run.smoke"]["attributes"]["device_runs"]
    assert {s.get("name") for s in suites} == {d["device"] for d in device_runs}
    files = sorted(str(p.relative_to(artifacts)) for p in artifacts.rglob("*") if p.is_file())
    assert "summary.pdf" in files and "failures.csv" in files and "screenshots.zip" in files
    assert sum(f.endswith("/logs.txt") for f in files) == 3
    assert Path(artifacts / "summary.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("on_destroy, status", [("keep", 200), ("delete", 404)])
def test_destroying_a_finished_run_keeps_its_history_unless_asked(on_destroy, status, running_clock, bitbar, workdir):
    """Destroy forgets a finished run but leaves it on the cloud, unless on_destroy: delete."""
    write_plan(workdir, WAIT + f"\non_destroy: {on_destroy}")
    assert workdir.apply().exit_code == 0
    state = state_of(workdir)["resources"]
    run_id, project = state["bitbar_run.smoke"]["id"], state["bitbar_project.ci"]["id"]
    assert workdir.run("destroy", str(workdir.path), "--auto-approve", "--target", "bitbar_run.smoke").exit_code == 0
    assert bitbar.api().get(f"/api/v2/me/projects/{project}/runs/{run_id}").status_code == status


COLLABORATION = (
    BITBAR_PROVIDER
    + """
resources:
  bitbar_project.p:
    name: P
    type: ANDROID
  bitbar_project_sharing.alice:
    project: ${bitbar_project.p.id}
    email: alice@example.com
  bitbar_notification.failures:
    email: qa@example.com
    type: ON_FAILURE
    project: ${bitbar_project.p.id}
"""
)


def test_a_malformed_sharing_e_mail_is_a_plan_error_naming_the_field(bitbar, workdir):
    """The cloud takes any e-mail (its table lists no 400); labform checks the shape before any call."""
    workdir.write(COLLABORATION.replace("alice@example.com", "alice-at-example"))
    result = workdir.plan()
    assert result.exit_code == 1
    assert re.search(r"main\.yaml:\d+:\d+: bitbar_project_sharing\.alice: email: ", result.stderr), result.stderr
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []


def test_a_run_the_project_cannot_run_is_not_started(running_clock, bitbar, workdir):
    """The cloud would start it and exclude every device; labform reads runAvailable first and says why."""
    workdir.write(
        BITBAR_PROVIDER
        + """
resources:
  bitbar_project.bare:
    name: Bare
    type: ANDROID
  bitbar_run.smoke:
    project: ${bitbar_project.bare.id}
    name: smoke
    wait: {timeout: 60s, poll: 1s}
"""
    )
    result = workdir.apply()
    assert result.exit_code == 1
    assert "bitbar_run.smoke: failed: bitbar: start run failed: project" in result.stdout
    assert "runAvailable: false" in result.stdout and "application file" in result.stdout
    assert run_starts(bitbar) == 0


def test_sharing_and_notification_lifecycle(bitbar, workdir):
    """Sharings and notifications are created, the notification type changes in place, both are destroyed."""
    workdir.write(COLLABORATION)
    assert workdir.apply().exit_code == 0
    resources = state_of(workdir)["resources"]
    project = resources["bitbar_project.p"]["id"]
    shares = bitbar.api().get(f"/api/v2/me/projects/{project}/sharings").json()["data"]
    assert [s["userEmail"] for s in shares] == ["alice@example.com"]

    workdir.write(COLLABORATION.replace("ON_FAILURE", "ALWAYS"))
    plan = workdir.plan()
    assert "bitbar_notification.failures will be updated in-place" in plan.stdout
    assert workdir.apply().exit_code == 0
    notification_id = resources["bitbar_notification.failures"]["id"]
    assert bitbar.api().get(f"/api/v2/me/notification/{notification_id}").json()["type"] == "ALWAYS"
    assert workdir.plan("--detailed-exitcode").exit_code == 0

    assert workdir.run("destroy", str(workdir.path), "--auto-approve").exit_code == 0
    assert bitbar.api().get(f"/api/v2/me/notification/{notification_id}").status_code == 404


def test_run_tag_and_lookups(running_clock, bitbar, workdir):
    """A tag on a run, and the data sources listing a project's runs and usable device groups."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    text = workdir.path.joinpath("main.yaml").read_text()
    text += """  bitbar_run_tag.nightly:
    project: ${bitbar_project.ci.id}
    run: ${bitbar_run.smoke.id}
    name: nightly
data:
  bitbar_runs.finished:
    project: ${bitbar_project.ci.id}
    state: FINISHED
  bitbar_device_groups.usable:
    project: ${bitbar_project.ci.id}
outputs:
  finished_runs: ${data.bitbar_runs.finished.ids}
  groups: ${data.bitbar_device_groups.usable.groups}
"""
    workdir.write(text)
    assert workdir.apply().exit_code == 0
    state = state_of(workdir)
    run_id = state["resources"]["bitbar_run.smoke"]["id"]
    project = state["resources"]["bitbar_project.ci"]["id"]
    tags = bitbar.api().get(f"/api/v2/me/projects/{project}/runs/{run_id}/tags").json()["data"]
    assert [t["name"] for t in tags] == ["nightly"]
    assert state["outputs"]["finished_runs"] == [int(run_id)]
    groups = state["outputs"]["groups"]
    assert any(g["name"] == "CI phones" and not g["public"] for g in groups)
    assert any(g["public"] for g in groups)


def test_plan_shows_what_a_new_run_costs(running_clock, bitbar, workdir):
    """When the project exists, a run to be started shows the cloud's credits price."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    write_plan(workdir, app_version="3.0")
    plan = workdir.plan()
    assert re.search(r"# ~ \d+ credits \(project config; device group 'CI phones' costs \d+ credits\)", plan.stdout)
    document = json.loads(workdir.plan("-json").stdout)
    run = next(c for c in document["resource_changes"] if c["address"] == "bitbar_run.smoke")
    assert "credits" in run["note"]
