"""The committed JSON Schema is the one the pydantic models generate."""

import json
from pathlib import Path

from engine.schema import SCHEMA_FILE, plan_schema

COMMITTED = Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_FILE


def test_committed_schema_is_up_to_date():
    """Run 'labform schema' after changing a resource's arguments; this test says when it was forgotten."""
    assert json.loads(COMMITTED.read_text()) == plan_schema()


def test_schema_knows_each_resource_and_its_fields():
    project = plan_schema()["properties"]["resources"]["patternProperties"][r"^bitbar_project\.[A-Za-z_][A-Za-z0-9_-]*$"]
    assert set(project["required"]) == {"name", "type"}
    assert {"depends_on", "lifecycle"} <= set(project["properties"])
    assert project["additionalProperties"] is False
