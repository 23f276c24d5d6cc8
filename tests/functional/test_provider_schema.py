"""``labform providers schema -json``: Terraform's shape, made from the models the engine validates with.

The document is read through the public CLI and checked with the field rules
of terraform-json's ``ProviderSchemas`` (an attribute has a ``type`` or a
``nested_type``; required, optional and computed as Terraform combines them),
then against the pydantic models and the JSON Schema editors load, so the three
cannot say different things about an argument.
"""

from __future__ import annotations

import json

import pytest

from labform.engine.schema import plan_schema
from labform.providers import registry

NAME = r"\.[A-Za-z_][A-Za-z0-9_-]*$"
CTY_PRIMITIVES = {"string", "number", "bool", "dynamic"}


@pytest.fixture(scope="module")
def document() -> dict:
    from click.testing import CliRunner

    from labform.engine.cli import main

    result = CliRunner().invoke(main, ["providers", "schema", "-json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def valid_cty(kind) -> bool:
    if isinstance(kind, str):
        return kind in CTY_PRIMITIVES
    if kind[0] in ("list", "set", "map"):
        return len(kind) == 2 and valid_cty(kind[1])
    return kind[0] == "object" and all(valid_cty(inner) for inner in kind[1].values())


def check_attributes(attributes: dict, where: str) -> None:
    """terraform-json's SchemaAttribute rules, for every attribute and every nested one."""
    for name, attribute in attributes.items():
        place = f"{where}.{name}"
        assert ("type" in attribute) != ("nested_type" in attribute), place
        if "type" in attribute:
            assert valid_cty(attribute["type"]), place
        else:
            assert attribute["nested_type"]["nesting_mode"] in ("single", "list"), place
            check_attributes(attribute["nested_type"]["attributes"], place)
        flags = {key for key in ("required", "optional", "computed") if attribute.get(key)}
        assert flags in ({"required"}, {"optional"}, {"computed"}, {"optional", "computed"}), place
        assert all(attribute.get(key) is True for key in (*flags, "sensitive") if key in attribute), place
        assert attribute.get("description"), f"{place} has no description"
        assert attribute["description_kind"] == "plain", place


def test_the_document_has_terraforms_shape_and_every_type(document):
    assert document["format_version"] == "1.0"
    schemas = document["provider_schemas"]
    assert set(schemas) == {f"labform.dev/labform/{name}" for name in registry.provider_names()}
    listed = {name for s in schemas.values() for name in s["resource_schemas"]}
    assert listed == set(registry.resource_types())
    assert {name for s in schemas.values() for name in s["data_source_schemas"]} == set(registry.data_sources())
    for address, schema in schemas.items():
        provider = address.rsplit("/", 1)[1]
        assert schema["provider"]["version"] == 0
        check_attributes(schema["provider"]["block"]["attributes"], provider)
        for section in ("resource_schemas", "data_source_schemas"):
            for type_name, kind in schema[section].items():
                assert registry.owner(type_name) == provider
                assert kind["version"] == 0 and kind["block"]["description_kind"] == "plain"
                check_attributes(kind["block"]["attributes"], type_name)


def test_attributes_say_what_the_models_say(document):
    """Each argument's required/optional and sensitive flag is the model's; the cloud's attributes are computed."""
    for type_name, kind in {**registry.resource_types(), **registry.data_sources()}.items():
        schemas = document["provider_schemas"][f"labform.dev/labform/{registry.owner(type_name)}"]
        section = "resource_schemas" if type_name in registry.resource_types() else "data_source_schemas"
        attributes = schemas[section][type_name]["block"]["attributes"]
        assert set(attributes) == set(kind.Args.model_fields) | set(kind.computed), type_name
        for name, field in kind.Args.model_fields.items():
            assert attributes[name].get("required", False) == field.is_required(), f"{type_name}.{name}"
            assert attributes[name].get("sensitive", False) == kind.Args.flag(name, "sensitive"), f"{type_name}.{name}"
        assert all(attributes[name]["computed"] for name in kind.computed), type_name


def test_types_and_nested_blocks_are_spelled_as_terraform_spells_them(document):
    bitbar = document["provider_schemas"]["labform.dev/labform/bitbar"]
    project = bitbar["resource_schemas"]["bitbar_project"]["block"]["attributes"]
    assert project["name"]["type"] == "string" and project["name"]["required"] is True
    assert project["id"] == {
        "type": "dynamic",
        "description": project["id"]["description"],
        "description_kind": "plain",
        "computed": True,
    }
    assert bitbar["resource_schemas"]["bitbar_device_group"]["block"]["attributes"]["devices"]["type"] == [
        "list",
        "number",
    ]
    gate = bitbar["resource_schemas"]["bitbar_run"]["block"]["attributes"]["gate"]
    assert gate["optional"] is True and gate["nested_type"]["nesting_mode"] == "single"
    assert gate["nested_type"]["attributes"]["min_success_ratio"]["type"] == "number"
    assert gate["nested_type"]["attributes"]["min_success_ratio"]["optional"] is True  # or min_pass_rate
    assert bitbar["provider"]["block"]["attributes"]["api_key"]["sensitive"] is True
    campaign = document["provider_schemas"]["labform.dev/labform/kyaraben"]["resource_schemas"]["kyaraben_campaign"]
    assert campaign["block"]["attributes"]["tests"]["nested_type"]["nesting_mode"] == "list"
    perfecto = document["provider_schemas"]["labform.dev/labform/perfecto"]["resource_schemas"]["perfecto_gate"]
    assert perfecto["block"]["attributes"]["custom_fields"]["type"] == ["map", ["list", "string"]]


def test_required_arguments_agree_with_the_editors_json_schema(document):
    """The plan files' JSON Schema (schemas/) and this document come from the same models: same required sets."""
    patterns = plan_schema()["properties"]["resources"]["patternProperties"]
    for schemas in document["provider_schemas"].values():
        for type_name, kind in schemas["resource_schemas"].items():
            editor = patterns[f"^{type_name}{NAME}"]
            required = {name for name, a in kind["block"]["attributes"].items() if a.get("required")}
            assert required == set(editor.get("required", ())), type_name
            assert set(editor["properties"]) - {"for_each", "count", "depends_on", "lifecycle"} == {
                name for name, a in kind["block"]["attributes"].items() if not a.get("computed") or a.get("optional")
            }, type_name


def test_the_output_is_the_same_every_time_and_needs_json(workdir):
    first, second = workdir.run("providers", "schema", "-json"), workdir.run("providers", "schema", "--json")
    assert first.exit_code == 0 and first.stdout == second.stdout
    bare = workdir.run("providers", "schema")
    assert bare.exit_code == 1 and bare.exception is None
    assert "labform providers schema -json" in bare.stderr
