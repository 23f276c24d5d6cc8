"""The JSON Schema editors load: up to date, valid for every example plan, open to references, described.

A real validator (jsonschema, draft 2020-12) reads it the way an editor's
language server does; the plans are loaded with ruamel.yaml as labform loads them.
"""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from labform.engine.schema import SCHEMA_FILE, plan_schema

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / SCHEMA_FILE
EXAMPLES = sorted((ROOT / "plans").rglob("*.yaml"))
NAME = r"\.[A-Za-z_][A-Za-z0-9_-]*$"
REFERENCE = "${var.anything}"


@pytest.fixture(scope="module")
def schema() -> dict:
    return plan_schema()


@pytest.fixture(scope="module")
def validator(schema) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(validator: Draft202012Validator, document: dict) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


def properties(node, path=""):
    """(path, schema) of every property, pattern property and nested model field in ``node``."""
    if isinstance(node, dict):
        for key in ("properties", "patternProperties"):
            for name, value in node.get(key, {}).items():
                yield f"{path}/{name}", value
        for key, value in node.items():
            yield from properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from properties(value, f"{path}/{index}")


def test_committed_schema_is_up_to_date():
    """Run 'labform schema' after changing a resource's arguments; this test says when it was forgotten."""
    assert json.loads(COMMITTED.read_text()) == plan_schema()


def test_schema_knows_each_resource_and_its_fields(schema):
    project = schema["properties"]["resources"]["patternProperties"]["^bitbar_project" + NAME]
    assert set(project["required"]) == {"name", "type"}
    assert {"depends_on", "lifecycle"} <= set(project["properties"])
    assert project["additionalProperties"] is False


def test_every_reference_in_the_schema_resolves(schema):
    """Nested models are defined once at the root, where '#/$defs/...' points (not inside each block)."""
    text = json.dumps(schema)
    targets = {part.split('"')[0] for part in text.split('"$ref": "#/$defs/')[1:]}
    assert targets and targets <= set(schema["$defs"])
    assert all(
        "$defs" not in block
        for section in ("resources", "data")
        for block in schema["properties"][section]["patternProperties"].values()
    )


@pytest.mark.parametrize("plan", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_every_example_plan_is_valid(plan, validator):
    document = YAML(typ="safe", pure=True).load(plan.read_text())
    assert errors(validator, document) == []


def test_the_examples_are_found():
    assert len(EXAMPLES) >= 6


def test_a_reference_is_accepted_in_every_field(schema):
    """Any field of a block or of a nested model, whatever its type, may hold a ${...} reference."""
    sections = schema["properties"]
    models = [
        *sections["providers"]["properties"].values(),
        *sections["resources"]["patternProperties"].values(),
        *sections["data"]["patternProperties"].values(),
        *schema["$defs"].values(),
    ]
    fields = [(path, value) for model in models for path, value in properties(model)]
    assert len(fields) > 200
    refusing = [
        path
        for path, value in fields
        if not Draft202012Validator({**value, "$defs": schema["$defs"]}).is_valid(REFERENCE)
    ]
    assert refusing == []


def test_references_in_integer_and_nested_fields_validate(validator):
    plan = {
        "resources": {
            "bitbar_run.nightly": {
                "project": "${bitbar_project.checkout.id}",
                "triggers": ["${bitbar_file.app.sha256}"],
                "wait": {"timeout": "${var.timeout}", "poll": 5},
                "gate": {"min_success_ratio": "${var.ratio}"},
                "artifacts": "${var.artifacts}",
            },
            "bitbar_device_group.smoke": {"name": "Smoke", "os_type": "${var.os}", "devices": [337, "${var.device}"]},
        },
        "providers": {
            "bitbar": {"endpoint": "${env.BITBAR_URL:-https://cloud.bitbar.com}", "timeout": "${env.TIMEOUT}"}
        },
    }
    assert errors(validator, plan) == []


@pytest.mark.parametrize("timeout", ["30m", "1h30m", "10s", "250ms", "1.5h", 90, 0.5])
def test_durations_are_accepted(validator, timeout):
    plan = {"resources": {"bitbar_run.nightly": {"project": 1, "wait": {"timeout": timeout, "poll": "10s"}}}}
    assert errors(validator, plan) == []


@pytest.mark.parametrize("timeout", ["soon", "30 minutes", "m30", True])
def test_a_word_is_not_a_duration(validator, timeout):
    plan = {"resources": {"bitbar_run.nightly": {"project": 1, "wait": {"timeout": timeout}}}}
    assert errors(validator, plan) != []


def test_an_unknown_field_is_rejected(validator):
    plan = {"resources": {"bitbar_project.checkout": {"name": "Checkout", "type": "ANDROID", "nmae": "typo"}}}
    assert errors(validator, plan) == ["Additional properties are not allowed ('nmae' was unexpected)"]


def test_a_wrong_enum_value_is_rejected(validator):
    """Not one of the choices, and not a reference either."""
    plan = {"resources": {"bitbar_project.checkout": {"name": "Checkout", "type": "ANDROIDX"}}}
    assert errors(validator, plan) == ["'ANDROIDX' is not valid under any of the given schemas"]
    wait = {"resources": {"bitbar_run.nightly": {"project": 1, "wait": {"timeout": "30m", "pol": "5s"}}}}
    assert errors(validator, wait) != []


def test_every_property_and_every_type_has_a_description(schema):
    """Editors show these on hover: every section, provider, resource type, data source and field."""
    undescribed = [path for path, value in properties(schema) if not value.get("description")]
    assert undescribed == []
