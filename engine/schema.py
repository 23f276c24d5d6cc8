"""JSON Schema for plan files, generated from the pydantic models.

Editors use it (``# yaml-language-server: $schema=...``) for completion and
early errors. Each resource type's ``Args`` model becomes the schema of the
blocks whose key starts with that type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.config import Lifecycle
from providers import registry

SCHEMA_FILE = "labform.schema.json"
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"


def _block_schema(args_model, meta: dict[str, Any]) -> dict[str, Any]:
    body = args_model.model_json_schema()
    body.setdefault("properties", {}).update(meta)
    body["additionalProperties"] = False
    return body


def plan_schema() -> dict[str, Any]:
    depends_on = {"type": "array", "items": {"type": "string"}}
    resource_meta = {"depends_on": depends_on, "lifecycle": Lifecycle.model_json_schema()}
    resources = {
        rf"^{name}\.{_NAME}$": _block_schema(rtype.Args, resource_meta)
        for name, rtype in sorted(registry.resource_types().items())
    }
    data = {
        rf"^{name}\.{_NAME}$": _block_schema(source.Args, {"depends_on": depends_on})
        for name, source in sorted(registry.data_sources().items())
    }
    providers = {name: registry.provider(name).Settings.model_json_schema() for name in registry.provider_names()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "labform plan file",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "providers": {"type": "object", "properties": providers, "additionalProperties": False},
            "variables": {"type": "object"},
            "resources": {"type": "object", "patternProperties": resources, "additionalProperties": False},
            "data": {"type": "object", "patternProperties": data, "additionalProperties": False},
            "outputs": {"type": "object"},
        },
    }


def write_schema(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / SCHEMA_FILE
    target.write_text(json.dumps(plan_schema(), indent=2, sort_keys=True) + "\n")
    return target
