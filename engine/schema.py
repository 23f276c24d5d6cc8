"""JSON Schema for plan files, generated from the pydantic models.

Editors use it (``# yaml-language-server: $schema=...``) for completion,
hover text and early errors, so it must accept every plan the engine accepts
and say what each field is for:

- every model is generated in one pass and its ``$defs`` live at the root, so
  each ``$ref`` resolves (a model's own ``$defs`` nested in a block do not);
- any value may be a ``${...}`` reference instead (the engine checks a value
  only once its references are resolved), so each one allows it;
- a validator that reads a wider input than its type (``30m`` for a duration,
  one value for a list) says so where the type is declared, with pydantic's
  ``BeforeValidator(..., json_schema_input_type=...)``: nothing here knows it;
- a block is described by the docstring of the class that declares its type.
"""

from __future__ import annotations

import copy
import inspect
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from labform.engine.config import Lifecycle
from labform.engine.encryption.config import EncryptionBlock
from labform.providers import registry

SCHEMA_FILE = "labform.schema.json"
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_DEFS = "#/$defs/"
REFERENCE = {
    "type": "string",
    # One unescaped ${...} anywhere in the text, as engine/references.py finds them ($${ is a literal).
    "pattern": r"(^|[^$])\$\{[^}]*\}",
    "description": "A ${...} reference (env.X, var.X, TYPE.NAME.attr, data.TYPE.NAME.attr), resolved by labform.",
}
# Keywords that describe a value rather than constrain it: they stay beside a ${...} alternative.
_ANNOTATIONS = (
    "title",
    "description",
    "default",
    "deprecated",
    "examples",
    "force_new",
    "sensitive",
    "unordered",
    "local",
    "local_file",
)
_LIFECYCLE = {
    "prevent_destroy": "Refuse any plan that would destroy this object (a replace included).",
    "ignore_changes": "Arguments whose remote changes are not diffed: labform sets them at creation only.",
    "create_before_destroy": "On replacement, create the new object before the old one is destroyed.",
}
_SECTIONS = {
    "providers": "Settings of each cloud the plan uses.",
    "variables": "Values for ${var.NAME}: a bare default, or {type, default, description, sensitive}; --var NAME=VALUE sets one.",
    "locals": "Named values worked out once from variables, other locals and references: ${local.NAME}.",
    "resources": "Objects labform creates and keeps as declared, keyed TYPE.NAME.",
    "data": "Read-only lookups, keyed TYPE.NAME, read as ${data.TYPE.NAME.attr}.",
    "modules": "Plan folders called with inputs, keyed by name: their blocks are module.NAME.TYPE.NAME.",
    "outputs": "Values shown after apply (labform output), usually references.",
    "moved": "Addresses renamed: state moves from one to the other on the next plan, with no remote call.",
    "removed": "Addresses taken out of the plan: with lifecycle.destroy false, forgotten and left in the cloud.",
    "encryption": "Client-side encryption of state and saved plans (OpenTofu's block in YAML): key_provider, method, state, plan.",
}
_DEPENDS_ON = {
    "type": "array",
    "items": {"type": "string", "pattern": rf"^(data\.)?{_NAME}\.{_NAME}(\[.+\])?$"},
    "description": "Addresses (TYPE.NAME) to order this after, without using a value of theirs.",
}
_INSTANCES = {
    "for_each": {
        "$ref": _DEFS + "for_each",
        "description": 'One instance per key of a map or string of a list: TYPE.NAME["key"], with ${each.key} and ${each.value}.',
    },
    "count": {"$ref": _DEFS + "count", "description": "This many instances: TYPE.NAME[0] and on, with ${count.index}."},
}
_INSTANCE_DEFS = {
    "for_each": {
        "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "string"}}, {"$ref": _DEFS + "reference"}]
    },
    "count": {"anyOf": [{"type": "integer", "minimum": 0}, {"$ref": _DEFS + "reference"}]},
}


_ADDRESS = {"type": "string", "description": 'An address: TYPE.NAME, TYPE.NAME["key"], module.NAME.TYPE.NAME.'}
_MODULE_CALL = {
    "type": "object",
    "required": ["source"],
    "additionalProperties": False,
    "properties": {
        "source": {"type": "string", "pattern": r"^\.\.?/", "description": "The module's folder, from this plan's."},
        "inputs": {"type": "object", "description": "Values for the module's variables: NAME: value."},
        **_INSTANCES,
    },
}
_MOVED = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["from", "to"],
        "additionalProperties": False,
        "properties": {"from": _ADDRESS, "to": _ADDRESS},
    },
}
_REMOVED = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["from"],
        "additionalProperties": False,
        "properties": {
            "from": _ADDRESS,
            "lifecycle": {
                "type": "object",
                "description": "What becomes of the remote object: destroy: false leaves it in the cloud.",
                "additionalProperties": False,
                "properties": {
                    "destroy": {"type": "boolean", "description": "false: forget it, leave it in the cloud."}
                },
            },
        },
    },
}


def class_summary(cls: type) -> str:
    """The first paragraph of a class's own docstring (not an inherited one)."""
    return inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")


def _referable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or a ${...} reference in its place; its description stays outside, for hover text."""
    outer = {key: schema.pop(key) for key in _ANNOTATIONS if key in schema}
    choices = schema["anyOf"] if set(schema) == {"anyOf"} else [schema]
    return {**outer, "anyOf": [*choices, {"$ref": _DEFS + "reference"}]}


def _open(schema: Any) -> Any:
    """Let every value inside ``schema`` (properties, items, map values) be a reference."""
    if not isinstance(schema, dict):
        return schema
    for choice in schema.get("anyOf", ()):
        _open(choice)
    for name, value in schema.get("properties", {}).items():
        schema["properties"][name] = _referable(_open(value))
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = _referable(_open(schema[key]))
    return schema


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"].removeprefix(_DEFS)} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


def _used(defs: dict[str, Any], roots: Any) -> dict[str, Any]:
    """The definitions ``roots`` reach; the inlined block models are dropped."""
    seen: set[str] = set()
    todo = _refs(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo |= _refs(defs[name])
    return {name: defs[name] for name in sorted(seen)}


def plan_schema() -> dict[str, Any]:
    resource_types = sorted(registry.resource_types().items())
    data_sources = sorted(registry.data_sources().items())
    providers = {name: registry.provider(name) for name in registry.provider_names()}
    models: list[type[BaseModel]] = [Lifecycle, EncryptionBlock, *(p.Settings for p in providers.values())]
    models += [kind.Args for _, kind in resource_types]
    models += [kind.Args for _, kind in data_sources]
    refs, generated = models_json_schema(
        [(model, "validation") for model in dict.fromkeys(models)],
        ref_template=_DEFS + "{model}",
    )
    # Copies: the schema is opened to references in place, and may be made again in one process.
    defs = {**generated["$defs"], **copy.deepcopy(_INSTANCE_DEFS), "reference": copy.deepcopy(REFERENCE)}

    def inlined(model: type[BaseModel], title: str, description: str, meta: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(defs[refs[(model, "validation")]["$ref"].removeprefix(_DEFS)])
        body.setdefault("properties", {}).update(copy.deepcopy(meta))
        body["additionalProperties"] = False
        body["title"], body["description"] = title, description
        opened: dict[str, Any] = _open(body)
        return opened

    lifecycle = defs[refs[(Lifecycle, "validation")]["$ref"].removeprefix(_DEFS)]
    for name, prop in lifecycle["properties"].items():
        prop["description"] = _LIFECYCLE[name]
    resource_meta = {
        **_INSTANCES,
        "depends_on": _DEPENDS_ON,
        "lifecycle": {
            "$ref": _DEFS + "Lifecycle",
            "description": "How labform treats this object beyond its arguments.",
        },
    }
    properties: dict[str, Any] = {
        "providers": {
            "type": "object",
            "properties": {
                name: inlined(p.Settings, name, class_summary(type(p)), {}) for name, p in providers.items()
            },
            "additionalProperties": False,
        },
        "variables": {"type": "object"},
        "locals": {"type": "object"},
        "resources": {
            "type": "object",
            "patternProperties": {
                rf"^{name}\.{_NAME}$": inlined(rtype.Args, name, class_summary(type(rtype)), resource_meta)
                for name, rtype in resource_types
            },
            "additionalProperties": False,
        },
        "data": {
            "type": "object",
            "patternProperties": {
                rf"^{name}\.{_NAME}$": inlined(
                    source.Args, name, class_summary(type(source)), {**_INSTANCES, "depends_on": _DEPENDS_ON}
                )
                for name, source in data_sources
            },
            "additionalProperties": False,
        },
        "modules": {"type": "object", "additionalProperties": copy.deepcopy(_MODULE_CALL)},
        "outputs": {"type": "object"},
        "moved": copy.deepcopy(_MOVED),
        "removed": copy.deepcopy(_REMOVED),
        "encryption": {"$ref": _DEFS + "EncryptionBlock"},
    }
    for name, section in properties.items():
        section["description"] = _SECTIONS[name]
    used = {name: _open(body) for name, body in _used(defs, properties).items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "labform plan file",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "$defs": used,
    }


def write_schema(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / SCHEMA_FILE
    target.write_text(json.dumps(plan_schema(), indent=2, sort_keys=True) + "\n")
    return target
