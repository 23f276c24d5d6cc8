"""The CLI around the engine: approval, state commands, outputs, graph, targets, lifecycle."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time

from tests.conftest import BITBAR_PROVIDER

PLAN = BITBAR_PROVIDER + """
resources:
  bitbar_project.checkout:
    name: Checkout flow
    type: ANDROID
  bitbar_config_parameter.devel:
    project: ${bitbar_project.checkout.id}
    key: devel
    value: "true"
  bitbar_device_group.smoke:
    name: Smoke phones
    os_type: ANDROID
    devices: [337]
outputs:
  project_id: ${bitbar_project.checkout.id}
"""


def test_apply_without_auto_approve_on_a_pipe_is_an_error_not_a_hang(bitbar, workdir):
    """In CI (stdin not a terminal) apply refuses to wait for an answer and changes nothing."""
    workdir.write(PLAN)
    result = workdir.run("apply", str(workdir.path), input="")
    assert result.exit_code == 1
    assert "standard input is not a terminal: run with --auto-approve" in result.stderr
    assert bitbar.app.log.all() == []


def _interactive_apply(workdir, answer: str) -> tuple[int, str]:
    """Run labform in a real pseudo-terminal and answer its prompt."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "apply", str(workdir.path)],
        stdin=follower, stdout=follower, stderr=follower, env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    while b"Only 'yes' will be accepted" not in seen and time.monotonic() < deadline:
        seen += os.read(leader, 4096)
    os.write(leader, answer.encode() + b"\n")
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    code = process.wait(timeout=30)
    os.close(leader)
    return code, seen.decode(errors="replace")


def test_interactive_apply_asks_and_only_yes_applies(bitbar, workdir):
    """On a terminal apply shows the plan and asks; 'no' cancels, 'yes' applies."""
    workdir.write(PLAN)
    code, screen = _interactive_apply(workdir, "no")
    assert code == 1 and "apply cancelled" in screen
    assert [r for r in bitbar.app.log.all() if r.method == "POST"] == []
    code, screen = _interactive_apply(workdir, "yes")
    assert code == 0, screen
    assert "Apply complete! Resources: 3 added" in screen


def test_state_list_show_mv_rm_and_output(bitbar, workdir):
    """State commands read and edit state; rm forgets without deleting remotely."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    listed = workdir.run("state", "list", str(workdir.path))
    assert listed.stdout.split() == ["bitbar_config_parameter.devel", "bitbar_device_group.smoke", "bitbar_project.checkout"]
    shown = workdir.run("state", "show", "bitbar_project.checkout", str(workdir.path))
    assert '"Checkout flow"' in shown.stdout

    output = workdir.run("output", str(workdir.path), "-json")
    project_id = json.loads(output.stdout)["project_id"]
    assert bitbar.api().get(f"/api/v2/me/projects/{project_id}").status_code == 200

    moved = workdir.run("state", "mv", "bitbar_device_group.smoke", "bitbar_device_group.fast", str(workdir.path))
    assert moved.exit_code == 0, moved.output
    removed = workdir.run("state", "rm", "bitbar_device_group.fast", str(workdir.path))
    assert removed.exit_code == 0, removed.output
    assert "bitbar_device_group.fast" not in workdir.run("state", "list", str(workdir.path)).stdout
    groups = bitbar.api().get("/api/v2/me/device-groups").json()
    assert groups["total"] == 1  # still there remotely


def test_graph_prints_dot_with_reference_edges(workdir, monkeypatch):
    """'labform graph' draws an edge for every reference, with no cloud needed."""
    monkeypatch.setenv("BITBAR_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BITBAR_API_KEY", "unused-key")
    workdir.write(PLAN)
    result = workdir.run("graph", str(workdir.path))
    assert result.exit_code == 0
    assert result.stdout.startswith("digraph labform {")
    assert '"bitbar_project.checkout" -> "bitbar_config_parameter.devel";' in result.stdout


def test_prevent_destroy_blocks_destroy(bitbar, workdir):
    """A resource with lifecycle.prevent_destroy cannot be destroyed; nothing is deleted."""
    workdir.write(PLAN.replace("    type: ANDROID\n", "    type: ANDROID\n    lifecycle: {prevent_destroy: true}\n"))
    assert workdir.apply().exit_code == 0
    result = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert result.exit_code == 1
    assert "bitbar_project.checkout: lifecycle.prevent_destroy is set" in result.stderr
    assert "main.yaml:7:3" in result.stderr
    assert [r for r in bitbar.app.log.all() if r.method == "DELETE"] == []


def test_ignore_changes_leaves_drift_alone(bitbar, workdir):
    """An attribute under ignore_changes may drift without a planned update."""
    workdir.write(PLAN.replace("    type: ANDROID\n", "    type: ANDROID\n    lifecycle: {ignore_changes: [name]}\n"))
    assert workdir.apply().exit_code == 0
    project_id = json.loads(workdir.state_file.read_text())["resources"]["bitbar_project.checkout"]["id"]
    bitbar.api().post(f"/api/v2/me/projects/{project_id}", data={"name": "Renamed"})
    result = workdir.plan()
    assert "Plan:" not in result.stdout


def test_target_limits_the_plan_to_an_address_and_its_dependencies(bitbar, workdir):
    """--target plans only the named resource and what it needs."""
    workdir.write(PLAN)
    result = workdir.plan("--target", "bitbar_config_parameter.devel")
    assert "bitbar_project.checkout will be created" in result.stdout
    assert "bitbar_config_parameter.devel will be created" in result.stdout
    assert "bitbar_device_group.smoke" not in result.stdout


def test_replace_flag_forces_a_replacement(bitbar, workdir):
    """--replace ADDR replaces an unchanged object."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    result = workdir.plan("--replace", "bitbar_device_group.smoke")
    assert "bitbar_device_group.smoke must be replaced" in result.stdout
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in result.stdout


def test_plan_json_is_machine_readable(bitbar, workdir):
    """-json prints a format version and per change: address, actions, before, after, after_unknown."""
    workdir.write(PLAN)
    result = workdir.plan("-json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["format_version"] == "1.0"
    change = next(c for c in document["resource_changes"] if c["address"] == "bitbar_project.checkout")
    assert change["change"]["actions"] == ["create"]
    assert change["change"]["before"] is None
    assert change["change"]["after"]["name"] == "Checkout flow"
    assert change["change"]["after_unknown"] == {"id": True, "shared_by_id": True}
    assert document["summary"] == {"adopt": 0, "add": 3, "change": 0, "destroy": 0, "has_changes": True}


def test_refresh_records_remote_changes_in_state_without_changing_the_cloud(bitbar, workdir):
    """'labform refresh' takes an out-of-band rename into state; nothing is written remotely."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    project_id = json.loads(workdir.state_file.read_text())["resources"]["bitbar_project.checkout"]["id"]
    bitbar.api().post(f"/api/v2/me/projects/{project_id}", data={"name": "Renamed"})
    bitbar.app.log.clear()
    result = workdir.run("refresh", str(workdir.path))
    assert result.exit_code == 0, result.output
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []
    state = json.loads(workdir.state_file.read_text())
    assert state["resources"]["bitbar_project.checkout"]["attributes"]["name"] == "Renamed"


def test_create_before_destroy_creates_the_new_object_first(bitbar, workdir):
    """With create_before_destroy a replaced parameter is created before the old one is deleted."""
    text = PLAN.replace('    value: "true"\n', '    value: "true"\n    lifecycle: {create_before_destroy: true}\n')
    workdir.write(text.replace("key: devel", "key: devel_a"))
    assert workdir.apply().exit_code == 0
    workdir.write(text.replace("key: devel", "key: devel_b"))
    bitbar.app.log.clear()
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    writes = [(r.method, r.path) for r in bitbar.app.log.all() if r.method != "GET" and "parameters" in r.path]
    assert [method for method, _ in writes] == ["POST", "DELETE"]
