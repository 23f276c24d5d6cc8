"""The CLI around the engine: approval, state commands, outputs, graph, targets, lifecycle."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time

from tests.conftest import BITBAR_PROVIDER

PLAN = (
    BITBAR_PROVIDER
    + """
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
)


def test_apply_without_auto_approve_on_a_pipe_is_an_error_not_a_hang(bitbar, workdir):
    """In CI (stdin not a terminal) apply refuses to wait for an answer and changes nothing."""
    workdir.write(PLAN)
    result = workdir.run("apply", str(workdir.path), input="")
    assert result.exit_code == 1
    assert "standard input is not a terminal: run with --auto-approve" in result.stderr
    assert bitbar.app.log.all() == []


def _read_until_closed(leader: int) -> bytes:
    """Everything a process writes to its pseudo-terminal until it closes it (Linux raises EIO then)."""
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


def _interactive_apply(workdir, answer: str) -> tuple[int, str]:
    """Run labform in a real pseudo-terminal and answer its prompt."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "labform.engine", "apply", str(workdir.path)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    while b"Only 'yes' will be accepted" not in seen and time.monotonic() < deadline:
        seen += os.read(leader, 4096)
    os.write(leader, answer.encode() + b"\n")
    seen += _read_until_closed(leader)
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
    assert listed.stdout.split() == [
        "bitbar_config_parameter.devel",
        "bitbar_device_group.smoke",
        "bitbar_project.checkout",
    ]
    shown = workdir.run("state", "show", "bitbar_project.checkout", str(workdir.path))
    assert '"Checkout flow"' in shown.stdout

    output = workdir.run("output", str(workdir.path), "-json")
    project_id = json.loads(output.stdout)["project_id"]["value"]
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
    """-json prints Terraform's format version and per change: address, provider, actions, before, after
    (values known only after apply left out of it) and after_unknown."""
    workdir.write(PLAN)
    result = workdir.plan("-json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["format_version"] == "1.2" and document["terraform_version"] == document["labform_version"]
    change = next(c for c in document["resource_changes"] if c["address"] == "bitbar_project.checkout")
    assert change["provider_name"] == "labform.dev/labform/bitbar"
    assert change["change"]["actions"] == ["create"]
    assert change["change"]["before"] is None
    assert change["change"]["after"]["name"] == "Checkout flow" and "id" not in change["change"]["after"]
    assert change["change"]["after_unknown"] == {"id": True, "shared_by_id": True}
    assert document["summary"] == {
        "adopt": 0,
        "add": 3,
        "change": 0,
        "destroy": 0,
        "forget": 0,
        "has_changes": True,
        "checks": {"pass": 0, "fail": 0, "error": 0, "unknown": 0},
    }
    assert document["checks"] == []  # no gate in this plan


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


# --- Terraform's habits -------------------------------------------------------


def test_single_dash_long_options_are_read_as_terraform_writes_them():
    """-name and -name=value become --name for labform's long options; values, short options and what follows -- stay."""
    from labform.engine.cli import main
    from labform.engine.flags import long_options, terraform_style

    known = long_options(main)
    args = [
        "apply",
        "-auto-approve",
        "-var",
        "x=-json",
        "-parallelism=16",
        "-lock-timeout=5m",
        "-target",
        "a.b",
        "-h",
        "--",
        "-json",
    ]
    assert terraform_style(args, known) == [
        "apply",
        "--auto-approve",
        "--var",
        "x=-json",
        "--parallelism=16",
        "--lock-timeout=5m",
        "--target",
        "a.b",
        "-h",
        "--",
        "-json",
    ]
    assert terraform_style(["plan", ".", "-no-color", "-json"], known) == ["--no-color", "plan", ".", "--json"]
    # Any other long name typed with one dash is read as a long option, so a typo gets "did you mean".
    assert terraform_style(["plan", "-nope", "-h"], known) == ["plan", "--nope", "-h"]


def test_terraform_spelled_options_work_end_to_end(bitbar, workdir):
    """plan -detailed-exitcode -no-color -var=..., apply -auto-approve -parallelism=2, output -json: as in Terraform."""
    workdir.write(PLAN.replace('value: "true"', "value: ${var.devel}") + "variables:\n  devel: 'false'\n")
    planned = workdir.run("plan", str(workdir.path), "-no-color", "-detailed-exitcode", "-var=devel=true")
    assert planned.exit_code == 2, planned.output
    applied = workdir.run("apply", str(workdir.path), "-auto-approve", "-parallelism=2", "-var", "devel=true")
    assert applied.exit_code == 0, applied.output
    assert json.loads(workdir.run("output", str(workdir.path), "-json").stdout)["project_id"]["type"] == "number"


def test_a_mistyped_option_exits_1_not_2(workdir):
    """Click's usage errors exit 2, which a CI step running plan -detailed-exitcode || test $? -eq 2 would read as 'changes'."""
    result = workdir.run("plan", str(workdir.path), "-detailed-exitcod")
    assert result.exit_code == 1
    assert "No such option" in result.stderr


def test_version_command_and_flag(workdir):
    assert workdir.run("version").stdout.startswith("labform v")
    assert workdir.run("--version").stdout.startswith("labform v")
    assert json.loads(workdir.run("version", "-json").stdout)["labform_version"]


def test_no_color_and_NO_COLOR_turn_off_colours_on_a_terminal(bitbar, workdir):
    """On a terminal the plan is coloured; -no-color (anywhere on the line) and NO_COLOR=1 take the colours out."""
    workdir.write(PLAN)

    def screen(*args: str, **env: str) -> str:
        leader, follower = pty.openpty()
        base = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        process = subprocess.Popen(
            [sys.executable, "-m", "labform.engine", *args],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env={**base, **env},
        )
        os.close(follower)
        seen = _read_until_closed(leader)
        assert process.wait(timeout=30) == 0, seen
        os.close(leader)
        return seen.decode(errors="replace")

    assert "\x1b[" in screen("plan", str(workdir.path))
    assert "\x1b[" not in screen("plan", str(workdir.path), "-no-color")
    assert "\x1b[" not in screen("plan", str(workdir.path), NO_COLOR="1")


def test_var_file_in_yaml_or_json_and_var_wins(bitbar, workdir):
    """-var-file files apply in order, then --var; a file that is not a mapping is an error."""
    workdir.write(
        PLAN.replace("name: Checkout flow", "name: ${var.project}") + "variables:\n  project: default\n  tag: x\n"
    )
    files = workdir.path / "vars"  # not beside main.yaml: every *.yaml there is a plan file
    files.mkdir()
    (files / "dev.yml").write_text("project: from yaml\n")
    (files / "ci.json").write_text('{"project": "from json", "tag": "y"}')
    (files / "bad.yml").write_text("- a list\n")

    def planned_name(*args: str) -> str:
        result = workdir.run("plan", str(workdir.path), *args)
        assert result.exit_code == 0, result.output
        return re.search(
            r'\+ name\s+= "([^"]*)"', result.stdout.split("bitbar_project.checkout will be created")[1]
        ).group(1)

    assert planned_name("-var-file", str(files / "dev.yml")) == "from yaml"
    assert planned_name("-var-file", str(files / "dev.yml"), "-var-file", str(files / "ci.json")) == "from json"
    assert planned_name("-var-file", str(files / "ci.json"), "-var", "project=from var") == "from var"
    bad = workdir.run("plan", str(workdir.path), "-var-file", str(files / "bad.yml"))
    assert bad.exit_code == 1 and "must hold a mapping of variable names to values" in bad.stderr


def test_an_undeclared_variable_is_an_error_naming_it(workdir, monkeypatch):
    """--var nope=1 for a variable the plan does not declare fails before any cloud call, with a did-you-mean."""
    monkeypatch.setenv("BITBAR_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BITBAR_API_KEY", "unused-key")
    workdir.write(PLAN + "variables:\n  language: en\n")
    result = workdir.run("plan", str(workdir.path), "--var", "languag=fr")
    assert result.exit_code == 1
    assert (
        "variable 'languag' is set (--var or -var-file) but the plan declares no such variable under 'variables:' (did you mean 'language'?)"
        in result.stderr
    )


def test_show_prints_a_saved_plan_or_the_state(bitbar, workdir):
    workdir.write(PLAN)
    saved = workdir.path / "tfplan"
    assert workdir.run("plan", str(workdir.path), "-out", str(saved)).exit_code == 0
    shown = workdir.run("show", str(saved))
    assert shown.exit_code == 0 and "Plan: 3 to add, 0 to change, 0 to destroy." in shown.stdout
    assert json.loads(workdir.run("show", str(saved), "-json").stdout)["summary"]["add"] == 3

    assert workdir.run("apply", str(saved)).exit_code == 0
    state = workdir.run("show", str(workdir.path))
    assert "# bitbar_project.checkout (id " in state.stdout and 'name         = "Checkout flow"' in state.stdout
    document = json.loads(workdir.run("show", str(workdir.state_file), "-json").stdout)
    addresses = [r["address"] for r in document["values"]["root_module"]["resources"]]
    assert "bitbar_project.checkout" in addresses
    assert document["values"]["outputs"]["project_id"]["type"] == "number"


def test_output_by_name_raw_and_json_with_sensitive_outputs_masked(bitbar, workdir):
    """output -json has Terraform's {name: {value, type, sensitive}}; a sensitive value prints as (sensitive) in text."""
    text = PLAN.replace(
        "outputs:\n",
        "  bitbar_project_config.checkout:\n    project: ${bitbar_project.checkout.id}\n"
        "    application_password: hunter2-secret\noutputs:\n  password: ${bitbar_project_config.checkout.application_password}\n",
    )
    workdir.write(text)
    assert workdir.apply().exit_code == 0
    everything = json.loads(workdir.run("output", str(workdir.path), "-json").stdout)
    assert set(everything["project_id"]) == {"value", "type", "sensitive"}
    assert everything["project_id"]["sensitive"] is False and everything["password"]["sensitive"] is True
    assert "hunter2-secret" not in json.dumps(everything)
    listed = workdir.run("output", str(workdir.path)).stdout
    assert "password = (sensitive)" in listed
    raw = workdir.run("output", "project_id", str(workdir.path), "-raw")
    assert raw.stdout == str(everything["project_id"]["value"])
    missing = workdir.run("output", "project", str(workdir.path))
    assert missing.exit_code == 1 and "output 'project' not found (did you mean 'project_id'?)" in missing.stderr
    assert workdir.run("output", "password", str(workdir.path)).stdout.strip() == "(sensitive)"


def test_fmt_check_exits_3_and_fmt_rewrites(workdir):
    """fmt -check changes nothing and exits 3 naming the file, as Terraform's; fmt then rewrites it."""
    plan = workdir.write("resources:\n    bitbar_project.a:   # the project\n        name: a\n        type: ANDROID\n")
    before = plan.read_text()
    check = workdir.run("fmt", str(workdir.path), "-check")
    assert check.exit_code == 3 and check.stdout.strip().endswith("main.yaml") and plan.read_text() == before
    assert workdir.run("fmt", str(workdir.path)).exit_code == 0
    assert re.search(r"\n  bitbar_project\.a: +# the project\n    name: a\n", plan.read_text())  # comment kept
    assert workdir.run("fmt", str(workdir.path), "-check").exit_code == 0


def test_validate_json_has_terraforms_shape(workdir, monkeypatch):
    monkeypatch.setenv("BITBAR_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BITBAR_API_KEY", "unused-key")
    workdir.write(PLAN)
    good = workdir.run("validate", str(workdir.path), "-json")
    assert good.exit_code == 0
    assert json.loads(good.stdout) == {
        "format_version": "1.0",
        "valid": True,
        "error_count": 0,
        "warning_count": 0,
        "diagnostics": [],
    }
    workdir.write(
        PLAN.replace("name: Checkout flow", "nmae: Checkout flow").replace("os_type: ANDROID", "os_type: WINDOWS")
    )
    bad = workdir.run("validate", str(workdir.path), "-json")
    assert bad.exit_code == 1
    document = json.loads(bad.stdout)
    assert document["valid"] is False and document["error_count"] == len(document["diagnostics"]) >= 2
    first = document["diagnostics"][0]
    assert first["severity"] == "error" and "unknown field 'nmae'" in first["summary"]
    assert first["range"]["filename"].endswith("main.yaml") and set(first["range"]["start"]) == {"line", "column"}


def test_validate_checks_every_endpoint_scheme(workdir, monkeypatch):
    monkeypatch.setenv("BITBAR_API_KEY", "unused-key")
    workdir.write(PLAN.replace("${env.BITBAR_URL}", "htp:/oops"))
    result = workdir.run("validate", str(workdir.path))
    assert result.exit_code == 1
    assert "main.yaml:3:5: provider bitbar: endpoint 'htp:/oops' must start with http:// or https://" in result.stderr


def test_apply_refresh_only_records_drift_without_remote_writes(bitbar, workdir):
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    project_id = json.loads(workdir.state_file.read_text())["resources"]["bitbar_project.checkout"]["id"]
    bitbar.api().post(f"/api/v2/me/projects/{project_id}", data={"name": "Renamed"})
    bitbar.app.log.clear()
    result = workdir.run("apply", str(workdir.path), "-refresh-only", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert "State now records what the cloud has" in result.stdout
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []
    assert (
        json.loads(workdir.state_file.read_text())["resources"]["bitbar_project.checkout"]["attributes"]["name"]
        == "Renamed"
    )


def test_target_warns_that_resource_targeting_is_in_effect(bitbar, workdir):
    workdir.write(PLAN)
    result = workdir.plan("-target", "bitbar_config_parameter.devel")
    assert "Warning: Resource targeting is in effect" in result.stderr
    applied = workdir.apply("-target", "bitbar_config_parameter.devel")
    assert "Warning: Applied changes may be incomplete" in applied.stderr


def test_auto_approve_prints_the_plan_first(bitbar, workdir):
    """A CI log shows what was intended before the changes start."""
    workdir.write(PLAN)
    result = workdir.apply()
    assert result.exit_code == 0
    intended = result.stdout.index("Plan: 3 to add, 0 to change, 0 to destroy.")
    assert (
        intended < result.stdout.index("bitbar_project.checkout: Creating...") < result.stdout.index("Apply complete!")
    )


def test_plan_from_a_folder_of_example_folders_names_them(workdir, monkeypatch):
    for name in ("alpha", "beta"):
        (workdir.path / "plans" / name).mkdir(parents=True)
        (workdir.path / "plans" / name / "main.yaml").write_text("resources: {}\n")
    (workdir.path / "plans" / "apps").mkdir()
    monkeypatch.chdir(workdir.path)
    result = workdir.run("plan")
    assert result.exit_code == 1
    assert "no *.yaml plan files in '.'" in result.stderr
    assert "name one as PATH: plans/alpha, plans/beta (e.g. labform plan plans/alpha)" in result.stderr


# --- a failed apply, summarised ----------------------------------------------------


def test_failed_apply_lists_what_was_done_failed_and_skipped(bitbar, workdir):
    """The human summary after a failure: what was created, what failed (with the error), what was skipped and why."""
    uses_group = "  bitbar_project_config.checkout:\n    project: ${bitbar_project.checkout.id}\n    used_device_group: ${bitbar_device_group.smoke.id}\noutputs:\n"
    workdir.write(PLAN.replace("devices: [337]", "devices: [999999]").replace("outputs:\n", uses_group))
    result = workdir.apply()
    assert result.exit_code == 1
    assert "Apply incomplete! Resources: 2 added, 0 changed, 0 destroyed, 1 failed, 1 skipped." in result.stdout
    assert "  Created:   bitbar_project.checkout, bitbar_config_parameter.devel\n" in result.stdout
    assert "  Skipped:   bitbar_project_config.checkout (because bitbar_device_group.smoke failed)" in result.stdout
    assert "  Failed:\n    bitbar_device_group.smoke: bitbar: add device to group failed (404)" in result.stderr


def test_apply_json_streams_events_and_ends_with_the_summary(bitbar, workdir):
    workdir.write(PLAN)
    result = workdir.run("apply", str(workdir.path), "-json", "-auto-approve")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "version" and events[0]["ui"] == "1.2"
    assert kinds.count("planned_change") == 3 and kinds.count("apply_start") == kinds.count("apply_complete") == 3
    applied = events[-2]
    assert applied["type"] == "change_summary" and applied["changes"]["operation"] == "apply"
    assert (applied["changes"]["add"], applied["failed"], applied["skipped"], applied["interrupted"]) == (
        3,
        [],
        [],
        None,
    )
    assert kinds[-1] == "outputs" and events[-1]["outputs"]["project_id"]["type"] == "number"
    refused = workdir.run("apply", str(workdir.path), "-json")
    assert refused.exit_code == 1 and "needs --auto-approve" in refused.stderr


# --- errors that say what to fix -----------------------------------------------------


def test_a_missing_credential_names_its_variable(workdir, monkeypatch):
    monkeypatch.delenv("BITBAR_API_KEY", raising=False)
    monkeypatch.setenv("BITBAR_URL", "http://127.0.0.1:9")
    workdir.write(PLAN.replace("${env.BITBAR_API_KEY}", "${env.BITBAR_API_KEY:-}"))
    result = workdir.plan()
    assert result.exit_code == 1
    assert "provider bitbar: set api_key, or username and password" in result.stderr
    assert result.stderr.rstrip().endswith(": BITBAR_API_KEY is not set")
    assert "Value error" not in result.stderr and "Input should be" not in result.stderr


def test_a_rejected_key_says_which_credential_to_check(bitbar, workdir, monkeypatch):
    monkeypatch.setenv("BITBAR_API_KEY", "wrong-key")
    workdir.write(PLAN)
    result = workdir.plan()
    assert result.exit_code == 1
    assert "(401)" in result.stderr and "check the provider's credentials (api_key, password)" in result.stderr


def test_a_bad_scheme_fails_at_once_naming_the_url(workdir, monkeypatch):
    monkeypatch.setenv("BITBAR_API_KEY", "unused-key")
    monkeypatch.setenv("BITBAR_URL", "htp:/oops")
    workdir.write(PLAN)
    started = time.monotonic()
    result = workdir.plan()
    assert result.exit_code == 1 and time.monotonic() - started < 3  # not retried
    assert "connection to htp:/oops/" in result.stderr and "bad scheme" in result.stderr


def test_a_refused_connection_names_the_url_and_how():
    from labform.providers.errors import ProviderError
    from labform.providers.http import HttpClient, RetryPolicy

    client = HttpClient("bitbar", "http://127.0.0.1:9", retry=RetryPolicy(attempts=2), sleep=lambda seconds: None)
    try:
        client.request("GET", "/api/v2/me", operation="read account")
    except ProviderError as exc:
        assert "connection to http://127.0.0.1:9/api/v2/me failed: connection refused" in str(exc)
    else:
        raise AssertionError("the request should have failed")
