"""plan -json and show -json as Terraform's tools read them (docs/plan-json.md).

``decode_plan`` checks a document with the field rules of terraform-json's ``Plan``
(``Plan.Validate``: a format version go-version parses within ">= 0.1, < 2.0";
each key of the type terraform-json decodes it into), and what Terraform's
JSON format promises besides: ``provider_name`` is the provider's address, a value
known only after apply is in ``after_unknown`` and never in ``after``.
``denials`` is the sample conftest policy of docs/plan-json.md, written in Python
over the same keys the Rego reads.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import BITBAR_KEY
from tests.functional.test_state_and_secrets import PLAN as SECRET_PLAN

ACTIONS = {"no-op", "create", "read", "update", "delete", "forget"}
PROVIDER = "labform.dev/labform/"


def _format_version(text: str) -> None:
    major, *rest = (int(part) for part in text.split("."))
    assert 0 <= major < 2 and rest, text  # terraform-json accepts ">= 0.1, < 2.0"


def _mask(value: object) -> bool:
    """after_unknown / *_sensitive: a bool, or objects and lists of them."""
    if isinstance(value, dict):
        return all(_mask(v) for v in value.values())
    if isinstance(value, list):
        return all(_mask(v) for v in value)
    return isinstance(value, bool)


def _resource_change(item: dict) -> None:
    for key in ("address", "mode", "type", "name", "provider_name"):
        assert isinstance(item[key], str), item
    assert item["mode"] in ("managed", "data") and item["provider_name"] == PROVIDER + item["type"].split("_")[0]
    assert isinstance(item.get("index", 0), int | str) and isinstance(item.get("module_address", ""), str)
    change = item["change"]
    assert change["actions"] and set(change["actions"]) <= ACTIONS, item
    for key in ("after_unknown", "before_sensitive", "after_sensitive"):
        assert _mask(change[key]), (key, item)
    if isinstance(change["after"], dict) and isinstance(change["after_unknown"], dict):
        unknown_marked = {k for k, v in change["after_unknown"].items() if v is True}
        assert not unknown_marked & set(change["after"]), item  # left out of after, never null there


def _state_values(values: dict) -> None:
    for resource in values["root_module"]["resources"]:
        assert isinstance(resource["values"], dict) and resource["provider_name"].startswith(PROVIDER)
    for output in values.get("outputs", {}).values():
        assert isinstance(output["sensitive"], bool)


def decode_plan(text: str) -> dict:
    document = json.loads(text)
    assert document["format_version"] == "1.2"
    _format_version(document["format_version"])
    assert document["terraform_version"] == document["labform_version"] and isinstance(document["timestamp"], str)
    for item in document["resource_changes"] + document.get("resource_drift", []):
        _resource_change(item)
    _state_values(document["planned_values"])
    _format_version(document["prior_state"]["format_version"])
    _state_values(document["prior_state"]["values"])
    for name, change in document.get("output_changes", {}).items():
        assert set(change["actions"]) <= ACTIONS and isinstance(change["after_unknown"], bool), name
        assert not (change["after_unknown"] and "after" in change), name
    for check in document["checks"]:
        assert check["status"] in ("pass", "fail", "unknown") and check["address"]["kind"] == "resource"
        statuses = {instance["status"] for instance in check["instances"]}
        worst = next(status for status in ("fail", "unknown", "pass") if status in statuses)
        assert check["status"] == worst, check  # Terraform's aggregate over the block's instances
        for instance in check["instances"]:
            assert isinstance(instance["address"]["to_display"], str)
            assert isinstance(instance["address"].get("instance_key", ""), str | int)
            assert ("problems" in instance) == (instance["status"] == "fail"), instance
    for provider in document.get("configuration", {}).get("provider_config", {}).values():
        assert provider["full_name"] == PROVIDER + provider["name"]
    return document


def denials(plan: dict) -> list[str]:
    """docs/plan-json.md's policy: no plan deletes or replaces a project, nor creates a run on a
    plan that deletes anything (a new run on a shrinking setup is a mistake)."""
    messages = []
    deleting = any("delete" in rc["change"]["actions"] for rc in plan["resource_changes"])
    for rc in plan["resource_changes"]:
        actions = rc["change"]["actions"]
        if rc["type"] == "bitbar_project" and "delete" in actions:
            messages.append(f"{rc['address']}: projects are never deleted or replaced ({actions})")
        if rc["type"] == "bitbar_run" and "create" in actions and deleting:
            messages.append(f"{rc['address']}: no new run while the plan deletes something")
    return messages


def test_plan_json_of_a_sandbox_example_decodes_as_terraform_json_reads_it(shipped_plans: Path, workdir):
    """plans/bitbar-ci planned on the sandbox: every key of the type terraform-json expects, the
    provider addresses version -json selects, unknown ids left out of after."""
    result = workdir.run("plan", "plans/bitbar-ci", "--sandbox", "-json")
    assert result.exit_code == 0, result.output
    document = decode_plan(result.stdout)
    project = next(rc for rc in document["resource_changes"] if rc["address"] == "bitbar_project.ci")
    assert "id" not in project["change"]["after"] and project["change"]["after_unknown"]["id"] is True
    assert "module_address" not in project and "index" not in project  # the root module, no count or for_each
    selections = json.loads(workdir.run("version", "-json").stdout)["provider_selections"]
    assert {rc["provider_name"] for rc in document["resource_changes"]} == {"labform.dev/labform/bitbar"}
    assert "labform.dev/labform/bitbar" in selections


def test_the_sample_policy_passes_a_fresh_plan_and_denies_a_project_replacement(shipped_plans: Path, workdir):
    """The conftest policy's Python twin over real plans: creating everything passes; changing the
    project's type (which replaces it) is denied, naming the project."""
    plan = "plans/bitbar-quickstart"
    fresh = decode_plan(workdir.run("plan", plan, "--sandbox", "-json").stdout)
    assert denials(fresh) == []
    assert workdir.run("apply", plan, "--sandbox", "--auto-approve").exit_code == 0
    main = shipped_plans / plan / "main.yaml"
    main.write_text(main.read_text().replace("type: ANDROID", "type: IOS", 1))
    replacing = decode_plan(workdir.run("plan", plan, "--sandbox", "-json").stdout)
    [denied] = denials(replacing)
    assert denied.startswith("bitbar_project.") and "['delete', 'create']" in denied


def test_show_json_of_a_saved_plan_has_the_same_contract(shipped_plans: Path, workdir, tmp_path):
    saved = tmp_path / "tfplan"
    assert workdir.run("plan", "plans/bitbar-quickstart", "--sandbox", "-out", str(saved)).exit_code == 0
    shown = workdir.run("show", str(saved), "-json")
    assert shown.exit_code == 0, shown.output
    assert decode_plan(shown.stdout)["resource_changes"]


def test_no_secret_or_fingerprint_anywhere_in_plan_json(bitbar, workdir):
    """After an apply, a new password planned: the API key, both passwords and state's fingerprints
    of them are nowhere in the file; before_sensitive and after_sensitive name the attribute."""
    workdir.write(SECRET_PLAN)
    assert workdir.apply().exit_code == 0
    workdir.write(SECRET_PLAN.replace("hunter2-very-secret", "hunter3-even-more-secret"))
    result = workdir.plan("-json")
    assert result.exit_code == 0, result.output
    for secret in (BITBAR_KEY, "hunter2-very-secret", "hunter3-even-more-secret", "scrypt:", "sha256:"):
        assert secret not in result.stdout
    document = decode_plan(result.stdout)
    config = next(rc for rc in document["resource_changes"] if rc["address"] == "bitbar_project_config.checkout")
    change = config["change"]
    assert change["actions"] == ["update"]
    assert change["before"]["application_password"] is change["after"]["application_password"] is None
    assert (
        change["before_sensitive"]["application_password"] is change["after_sensitive"]["application_password"] is True
    )
