"""apply -json and destroy -json: Terraform's machine-readable UI (docs/json-ui.md).

Each recorded line is decoded with the field rules of terraform-json's log messages
(``UnmarshalLogMessage``: ``type`` picks the message; ``@level``, ``@message`` and an
RFC 3339 ``@timestamp`` on every one; ``version`` with go-version strings in
``terraform`` and ``ui``; ``diagnostic`` with its severity, summary, detail and range)
and with the shapes Terraform's machine-readable UI documents for the other types
(the ``hook`` and ``change`` objects and their resource object, ``change_summary``,
``outputs``). labform's own types (docs/json-ui.md) are checked as documented there.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from labform.engine.ci import ChangeLog
from labform.engine.events import Event
from tests.conftest import BITBAR_PROVIDER
from tests.functional.test_bitbar_runs import WAIT, write_plan
from tests.functional.test_cli import PLAN

LEVELS = {"trace", "debug", "info", "warn", "error"}  # go-hclog's, as terraform-json reads @level
GO_VERSION = re.compile(r"v?\d+(\.\d+)*(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")  # what go-version parses
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
UI_ACTIONS = {"noop", "create", "read", "update", "replace", "delete", "move", "import", "remove"}
RESOURCE_KEYS = {"addr", "module", "resource", "implied_provider", "resource_type", "resource_name", "resource_key"}


def _resource(found: dict) -> None:
    """Terraform's resource object: every key, strings, the key null, a string or a number."""
    assert set(found) >= RESOURCE_KEYS, found
    assert all(isinstance(found[k], str) for k in RESOURCE_KEYS - {"resource_key"}), found
    assert found["resource_key"] is None or isinstance(found["resource_key"], str | int), found
    assert found["addr"].endswith(found["resource"]) and found["addr"].startswith(found["module"])


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _diagnostic(found: dict) -> None:
    assert found["severity"] in ("error", "warning") and isinstance(found["summary"], str), found
    assert isinstance(found.get("detail", ""), str) and isinstance(found.get("address", ""), str), found
    if "range" in found:
        assert isinstance(found["range"]["filename"], str)
        for end in ("start", "end"):
            assert all(isinstance(found["range"][end][k], int) for k in ("line", "column")), found


def _hook(found: dict, kind: str) -> None:
    _resource(found["resource"])
    if kind.startswith("apply_"):
        assert found["action"] in UI_ACTIONS, found
    if kind in ("apply_progress", "apply_complete", "apply_errored"):
        assert _number(found["elapsed_seconds"]), found
    if "id_key" in found or "id_value" in found:
        assert isinstance(found["id_key"], str) and isinstance(found["id_value"], str), found


def decode(line: str) -> dict:
    """One line of the stream, checked as terraform-json and Terraform's UI document read it."""
    found = json.loads(line)
    kind = found["type"]
    assert isinstance(kind, str) and found["@level"] in LEVELS and isinstance(found["@message"], str), found
    assert found["@module"] == "labform.ui" and RFC3339.fullmatch(found["@timestamp"]), found
    datetime.fromisoformat(found["@timestamp"])
    if kind == "version":
        assert GO_VERSION.fullmatch(found["terraform"]) and GO_VERSION.fullmatch(found["ui"]), found
        assert found["labform"] == found["terraform"]
    elif kind == "diagnostic":
        _diagnostic(found["diagnostic"])
        assert found["@level"] == {"error": "error", "warning": "warn"}[found["diagnostic"]["severity"]]
    elif kind in ("planned_change", "resource_drift"):
        _resource(found["change"]["resource"])
        assert found["change"]["action"] in UI_ACTIONS, found
    elif kind in ("apply_start", "apply_progress", "apply_complete", "apply_errored", "change_skipped"):
        _hook(found["hook"], kind)
    elif kind == "change_summary":
        changes = found["changes"]
        assert all(isinstance(changes[k], int) for k in ("add", "change", "import", "remove")), found
        assert changes["operation"] in ("plan", "apply", "destroy"), found
    elif kind == "outputs":
        for output in found["outputs"].values():
            assert isinstance(output["sensitive"], bool) and isinstance(output.get("type", ""), str | list)
    elif kind == "run_result":
        _resource(found["run"]["resource"])
        assert isinstance(found["run"]["gate"], str), found
    elif kind == "check_result":
        _resource(found["check"]["resource"])
        assert found["check"]["status"] in ("pass", "fail", "unknown"), found
    else:
        assert kind in ("log", "change_recovered"), found
    return found


def stream(text: str) -> list[dict]:
    """A recorded stream: every line decodes, the ``version`` message first and only there."""
    messages = [decode(line) for line in text.splitlines()]
    assert [m["type"] for m in messages].count("version") == 1 and messages[0]["type"] == "version"
    assert messages[0]["ui"] == "1.2"
    return messages


def of_type(messages: list[dict], kind: str) -> list[dict]:
    return [m for m in messages if m["type"] == kind]


def test_a_sandbox_apply_streams_terraforms_messages_and_labforms_facts(shipped_plans: Path, workdir, tmp_path):
    """A real apply of plans/bitbar-ci on the sandbox, recorded: every line decodes; each planned
    change is started and completed with its id; the run's results, the gate's verdict, the summary
    and the outputs close the stream, and the human output of the same apply is unchanged in kind."""
    result = workdir.run("apply", "plans/bitbar-ci", "--sandbox", "--auto-approve", "-json")
    assert result.exit_code == 0, result.output
    recorded = tmp_path / "apply.jsonl"
    recorded.write_text(result.stdout)
    messages = stream(recorded.read_text())
    planned = {m["change"]["resource"]["addr"] for m in of_type(messages, "planned_change")}
    started = {m["hook"]["resource"]["addr"] for m in of_type(messages, "apply_start")}
    completed = of_type(messages, "apply_complete")
    assert len(planned) == 8 and planned == started == {m["hook"]["resource"]["addr"] for m in completed}
    assert all(m["hook"]["id_key"] == "id" and m["hook"]["id_value"].isdigit() for m in completed)
    plan_summary, apply_summary = of_type(messages, "change_summary")
    assert plan_summary["changes"] == {
        "add": 8,
        "change": 0,
        "import": 0,
        "remove": 0,
        "forget": 0,
        "operation": "plan",
    }
    assert plan_summary["@message"] == "Plan: 8 to add, 0 to change, 0 to destroy."
    assert messages.index(plan_summary) < messages.index(of_type(messages, "apply_start")[0])
    assert apply_summary["@message"] == "Apply complete! Resources: 8 added, 0 changed, 0 destroyed."
    assert (apply_summary["changes"]["add"], apply_summary["changes"]["operation"], apply_summary["status"]) == (
        8,
        "apply",
        "complete",
    )
    [run] = of_type(messages, "run_result")
    assert run["run"]["resource"]["addr"] == "bitbar_run.smoke" and run["run"]["devices"] == 3
    assert run["run"]["gate"] == "passed" and "credits" in run["run"]
    [check] = of_type(messages, "check_result")
    assert (check["check"]["resource"]["addr"], check["check"]["status"]) == ("bitbar_run.smoke", "pass")
    progress = [m for m in of_type(messages, "apply_progress") if m["hook"]["resource"]["addr"] == "bitbar_run.smoke"]
    assert progress and all(m["progress"] == m["@message"] for m in progress)  # the cloud's own words
    assert [m["type"] for m in messages[-2:]] == ["change_summary", "outputs"]
    assert set(messages[-1]["outputs"]) == {"run_id", "success_ratio"}


def test_destroy_json_names_each_object_by_its_id_and_sums_up_a_destroy(shipped_plans: Path, workdir):
    """destroy -json: each delete starts with the id the plan read, and the summary's operation is destroy."""
    assert workdir.run("apply", "plans/bitbar-quickstart", "--sandbox", "--auto-approve").exit_code == 0
    result = workdir.run("destroy", "plans/bitbar-quickstart", "--sandbox", "--auto-approve", "-json")
    assert result.exit_code == 0, result.output
    messages = stream(result.stdout)
    starts = of_type(messages, "apply_start")
    assert starts and all(m["hook"]["action"] == "delete" and m["hook"]["id_value"] for m in starts)
    [_, destroyed] = of_type(messages, "change_summary")
    assert destroyed["changes"]["operation"] == "destroy" and destroyed["changes"]["remove"] == len(starts)
    assert destroyed["@message"].startswith("Destroy complete!") and messages[-1] is destroyed  # no outputs


def test_a_failed_change_is_errored_with_a_diagnostic_and_its_dependent_skipped(bitbar, workdir):
    """The device group's create fails: apply_errored, then its error as a diagnostic naming it; the
    config that needed the group is skipped, saying why; the summary counts what was done."""
    uses_group = "  bitbar_project_config.checkout:\n    project: ${bitbar_project.checkout.id}\n    used_device_group: ${bitbar_device_group.smoke.id}\noutputs:\n"
    workdir.write(PLAN.replace("devices: [337]", "devices: [999999]").replace("outputs:\n", uses_group))
    result = workdir.apply("-json")
    assert result.exit_code == 1
    messages = stream(result.stdout)
    [errored] = of_type(messages, "apply_errored")
    assert errored["hook"]["resource"]["addr"] == "bitbar_device_group.smoke"
    assert errored["@message"].startswith("bitbar_device_group.smoke: Creation errored after ")
    [problem] = of_type(messages, "diagnostic")
    assert messages.index(problem) == messages.index(errored) + 1 and problem["@level"] == "error"
    assert problem["diagnostic"]["address"] == "bitbar_device_group.smoke"
    assert "add device to group failed (404)" in problem["diagnostic"]["summary"]
    [skipped] = of_type(messages, "change_skipped")
    assert skipped["hook"]["resource"]["addr"] == "bitbar_project_config.checkout"
    assert skipped["hook"]["because"] == "bitbar_device_group.smoke"
    summary = of_type(messages, "change_summary")[-1]
    assert (summary["changes"]["add"], summary["status"]) == (2, "incomplete")
    assert summary["failed"][0]["address"] == "bitbar_device_group.smoke"


def test_a_missed_gate_is_a_failing_check_and_an_error_diagnostic(half_failing, bitbar, workdir):
    """The run that misses its gate fails its change (apply_errored, the miss as its diagnostic, its
    check unknown); the next apply has nothing to change and reports the check: check_result fail
    at level error, a diagnostic saying how it missed and what turns it green, status failed."""
    write_plan(workdir, WAIT + "\ngate: {min_success_ratio: 0.95}")
    first = workdir.apply("-json")
    assert first.exit_code == 1, first.output
    messages = stream(first.stdout)
    [errored] = of_type(messages, "apply_errored")
    problem = messages[messages.index(errored) + 1]["diagnostic"]
    assert errored["hook"]["resource"]["addr"] == problem["address"] == "bitbar_run.smoke"
    assert "missed its gate" in problem["summary"]
    assert [m["check"]["status"] for m in of_type(messages, "check_result")] == ["unknown"]

    again = workdir.apply("-json")
    assert again.exit_code == 1, again.output
    messages = stream(again.stdout)
    [check] = of_type(messages, "check_result")
    assert (check["check"]["status"], check["@level"]) == ("fail", "error")
    assert check["check"]["reason"].startswith("run ") and "missed its gate" in check["check"]["reason"]
    problem = of_type(messages, "diagnostic")[-1]["diagnostic"]
    assert problem["summary"] == f"check bitbar_run.smoke failed: {check['check']['reason']}"
    assert problem["detail"].startswith("apply exits 1 while it fails; ")
    assert of_type(messages, "change_summary")[-1]["status"] == "failed"


def test_an_error_in_the_plan_files_is_a_diagnostic_at_its_line(bitbar, workdir):
    """A mistake found before any call: the stream is its version message and a diagnostic with the
    place; stderr still says it, exit 1."""
    workdir.write(BITBAR_PROVIDER + "resources:\n  bitbar_project.x:\n    nmae: X\n    type: ANDROID\n")
    result = workdir.apply("-json")
    assert result.exit_code == 1
    [_, problem] = stream(result.stdout)
    found = problem["diagnostic"]
    assert "unknown field 'nmae'" in found["summary"] and found["range"]["start"] == {"line": 7, "column": 5}
    assert found["range"]["filename"].endswith("main.yaml") and "unknown field 'nmae'" in result.stderr


def test_a_long_wait_sends_heartbeats_as_apply_progress(running_clock, bitbar, workdir, monkeypatch):
    """On a pipe, a run waited on longer than the interval gets apply_progress heartbeats in the stream."""
    monkeypatch.setenv("LABFORM_HEARTBEAT_SECONDS", "0.2")
    write_plan(workdir, "wait: {timeout: 60s, poll: 5s}")
    result = workdir.apply("-json")
    assert result.exit_code == 0, result.output
    beats = [m for m in stream(result.stdout) if m.get("heartbeat")]
    assert {m["type"] for m in beats} == {"apply_progress"}
    waits = [m for m in beats if m["hook"]["resource"]["addr"] == "bitbar_run.smoke"]
    assert waits and waits[0]["hook"]["action"] == "create" and waits[0]["hook"]["elapsed_seconds"] >= 0.2
    assert re.fullmatch(r"bitbar_run\.smoke: Still waiting\.\.\. \[\d+s elapsed, .+\]", waits[0]["@message"])


def test_secrets_stay_out_of_the_stream(bitbar, workdir):
    """The API key, a sensitive argument and an output holding it never reach the stream, nor their
    fingerprints; the output says it is sensitive."""
    from tests.conftest import BITBAR_KEY
    from tests.functional.test_state_and_secrets import PLAN as SECRET_PLAN

    workdir.write(SECRET_PLAN + "outputs:\n  password: ${bitbar_project_config.checkout.application_password}\n")
    result = workdir.apply("-json")
    assert result.exit_code == 0, result.output
    for secret in (BITBAR_KEY, "hunter2-very-secret", "scrypt:", "sha256:"):
        assert secret not in result.stdout
    outputs = stream(result.stdout)[-1]["outputs"]
    assert outputs["password"]["sensitive"] is True and outputs["password"]["value"] == "(sensitive)"


def test_a_change_log_not_on_json_prints_the_lines_people_read():
    """Without -json the same events are the human lines they always were: no JSON, no version line."""
    lines: list[str] = []
    log = ChangeLog(lines.append)
    log(Event("change_started", "bitbar_file.app: Creating...", "bitbar_file.app", {"action": "create"}))
    log(Event("progress", "upload 3: 50%", "bitbar_file.app"))
    log(
        Event("change_finished", "bitbar_file.app: Creation complete after 0s", "bitbar_file.app", {"action": "create"})
    )
    assert lines == ["bitbar_file.app: Creating...", "upload 3: 50%", "bitbar_file.app: Creation complete after 0s"]


def test_a_recovered_create_and_the_commands_own_progress_are_messages_of_their_own():
    """An interrupted create found again is change_recovered with its resource and action; progress
    that names no object (reading data sources while planning) is a plain log message."""
    lines: list[str] = []
    log = ChangeLog(lines.append, as_json=True)
    log(Event("progress", "reading data.bitbar_devices.sony"))
    log(Event("change_started", "bitbar_project.ci: Creating...", "bitbar_project.ci", {"action": "create"}))
    log(Event("recovered", "bitbar_project.ci: timed out; found what the create made (id 7)", "bitbar_project.ci"))
    done = {"action": "create", "id": "7", "elapsed_seconds": 1.5}
    log(Event("change_finished", "bitbar_project.ci: Creation complete after 2s [id=7]", "bitbar_project.ci", done))
    messages = stream("\n".join(lines))
    assert [m["type"] for m in messages] == ["version", "log", "apply_start", "change_recovered", "apply_complete"]
    recovered = messages[3]
    assert recovered["hook"]["resource"]["addr"] == "bitbar_project.ci" and recovered["hook"]["action"] == "create"
    assert (messages[4]["hook"]["id_value"], messages[4]["hook"]["elapsed_seconds"]) == ("7", 1.5)
