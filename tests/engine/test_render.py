"""Plans shown to people (Terraform-like text) and to tools (JSON)."""

from __future__ import annotations

import json

import pytest

from engine.addresses import Address
from engine.changes import Action, Plan, ResourceChange
from engine.references import UNKNOWN
from engine.render import plan_json, render_plan


def plan_of(*changes: ResourceChange) -> Plan:
    return Plan(changes=list(changes), state_serial=1, state_lineage="lin", file_hashes={"main.yaml": "abc"})


def thing(name: str, action: Action, before=None, after=None, **extra) -> ResourceChange:
    return ResourceChange(Address("memory_thing", name), action, before, after, **extra)


@pytest.mark.parametrize(
    "action, headline, head",
    [
        (Action.CREATE, "# memory_thing.x will be created", '  + resource "memory_thing" "x" {'),
        (Action.UPDATE, "# memory_thing.x will be updated in-place", '  ~ resource "memory_thing" "x" {'),
        (Action.DELETE_THEN_CREATE, "# memory_thing.x must be replaced", '-/+ resource "memory_thing" "x" {'),
        (Action.CREATE_THEN_DELETE, "# memory_thing.x must be replaced", '+/- resource "memory_thing" "x" {'),
        (Action.DELETE, "# memory_thing.x will be destroyed", '  - resource "memory_thing" "x" {'),
    ],
)
def test_each_action_has_its_headline_and_symbol(action, headline, head):
    """Every action is announced with its words and its symbol, as Terraform does."""
    before = None if action == Action.CREATE else {"id": "1", "size": 1}
    after = None if action == Action.DELETE else {"id": "1", "size": 2}
    text = render_plan(plan_of(thing("x", action, before, after)))
    lines = text.splitlines()
    assert f"  {headline}" in lines
    assert head in lines


def test_data_source_read_during_apply_is_announced_as_a_read():
    """A data source that waits on apply is shown as a read with the <= symbol."""
    read = ResourceChange(Address("memory_lookup", "l", True), Action.READ, None, {"name": "n", "value": UNKNOWN}, after_unknown={"value"})
    text = render_plan(plan_of(read))
    assert "  # data.memory_lookup.l will be read during apply" in text
    assert ' <= data "memory_lookup" "l" {' in text
    assert "      + value = (known after apply)" in text


def test_update_shows_only_changed_attributes_and_the_id():
    """An update lists the changed attribute as old -> new, keeps the id for orientation, hides unchanged ones."""
    change = thing("web", Action.UPDATE, {"id": "t-1", "name": "web", "size": 1}, {"id": "t-1", "name": "web", "size": 2}, remote_id="t-1")
    text = render_plan(plan_of(change))
    assert "      ~ size = 1 -> 2" in text
    assert "        id   = \"t-1\"" in text
    assert "name" not in text


def test_replace_marks_the_attribute_that_forces_it():
    """The argument that forces a replacement is marked '# forces replacement'; unknown new values say so."""
    change = thing(
        "web",
        Action.DELETE_THEN_CREATE,
        {"id": "t-1", "kind": "small"},
        {"id": UNKNOWN, "kind": "large"},
        after_unknown={"id"},
        requires_replace=["kind"],
    )
    text = render_plan(plan_of(change))
    assert '      ~ kind = "small" -> "large"  # forces replacement' in text
    assert '      ~ id   = "t-1" -> (known after apply)' in text


def test_replace_requested_on_the_command_line_says_so():
    """A --replace with no argument change carries a line saying it was requested."""
    change = thing("web", Action.DELETE_THEN_CREATE, {"id": "t-1"}, {"id": UNKNOWN}, after_unknown={"id"}, requires_replace=["(replace requested)"])
    assert "      # replacement requested with --replace" in render_plan(plan_of(change))


def test_delete_shows_every_attribute_going_to_null():
    """A delete lists each attribute as value -> null."""
    change = thing("old", Action.DELETE, {"id": "t-9", "name": "old"}, None, reason="not in the plan any more")
    text = render_plan(plan_of(change))
    assert "  # memory_thing.old will be destroyed (not in the plan any more)" in text
    assert '      - id   = "t-9" -> null' in text
    assert '      - name = "old" -> null' in text


def test_summary_line_counts_each_kind_of_change():
    """The plan ends with 'Plan: N to add, N to change, N to destroy.'"""
    text = render_plan(
        plan_of(
            thing("a", Action.CREATE, None, {"id": UNKNOWN}, after_unknown={"id"}),
            thing("b", Action.UPDATE, {"id": "1", "size": 1}, {"id": "1", "size": 2}),
            thing("c", Action.CREATE_THEN_DELETE, {"id": "2"}, {"id": UNKNOWN}, after_unknown={"id"}),
            thing("d", Action.NOOP, {"id": "3"}, {"id": "3"}),
        )
    )
    assert text.splitlines()[-1] == "Plan: 2 to add, 1 to change, 1 to destroy."
    assert "memory_thing.d" not in text  # no-ops are not shown


def test_plan_without_changes_says_so():
    """Only no-ops: the text is exactly the no-changes sentence."""
    assert render_plan(plan_of(thing("a", Action.NOOP, {"id": "1"}, {"id": "1"}))) == "No changes. Your cloud matches the plan."


def test_drift_is_noted_before_the_changes():
    """Objects changed outside labform are listed in a note ahead of the actions."""
    drift = thing("web", Action.UPDATE, {"id": "1", "size": 1}, {"id": "1", "size": 9}, reason="changed outside labform")
    update = thing("web", Action.UPDATE, {"id": "1", "size": 9}, {"id": "1", "size": 1})
    text = render_plan(plan_of(update), [drift])
    assert text.index("Note: objects have changed outside of labform:") < text.index("labform will perform the following actions:")
    assert "  # memory_thing.web changed outside labform" in text
    assert "      ~ size = 1 -> 9" in text


def test_sensitive_values_print_as_sensitive_in_text_and_json():
    """A sensitive attribute never shows its value, in text or JSON, whatever it holds."""
    change = thing(
        "web",
        Action.UPDATE,
        {"id": "1", "secret": "sha256:aaaa"},
        {"id": "1", "secret": "sha256:bbbb"},
        sensitive={"secret"},
    )
    text = render_plan(plan_of(change))
    assert "      ~ secret = (sensitive) -> (sensitive)" in text
    assert "sha256:" not in text
    document = json.loads(plan_json(plan_of(change)))
    [item] = document["resource_changes"]
    assert item["change"]["before"]["secret"] == "(sensitive)"
    assert item["change"]["after"]["secret"] == "(sensitive)"
    assert item["change"]["after_sensitive"] == {"secret": True}
    assert "sha256:" not in plan_json(plan_of(change))


def test_json_lists_every_change_with_terraforms_actions():
    """resource_changes carries each address with its actions list, no-ops included; the summary agrees."""
    document = json.loads(
        plan_json(
            plan_of(
                thing("a", Action.CREATE, None, {"id": UNKNOWN, "name": "a"}, after_unknown={"id"}),
                thing("b", Action.UPDATE, {"id": "1"}, {"id": "1"}),
                thing("c", Action.DELETE_THEN_CREATE, {"id": "2"}, {"id": UNKNOWN}, after_unknown={"id"}, requires_replace=["kind"]),
                thing("d", Action.CREATE_THEN_DELETE, {"id": "3"}, {"id": UNKNOWN}, after_unknown={"id"}),
                thing("e", Action.DELETE, {"id": "4"}, None),
                thing("f", Action.NOOP, {"id": "5"}, {"id": "5"}),
            )
        )
    )
    assert [(c["address"], c["change"]["actions"]) for c in document["resource_changes"]] == [
        ("memory_thing.a", ["create"]),
        ("memory_thing.b", ["update"]),
        ("memory_thing.c", ["delete", "create"]),
        ("memory_thing.d", ["create", "delete"]),
        ("memory_thing.e", ["delete"]),
        ("memory_thing.f", ["no-op"]),
    ]
    created = document["resource_changes"][0]["change"]
    assert (created["before"], created["after"], created["after_unknown"]) == (None, {"id": None, "name": "a"}, {"id": True})
    assert document["resource_changes"][2]["change"]["replace_paths"] == [["kind"]]
    assert document["summary"]["has_changes"] is True
    assert (document["summary"]["add"], document["summary"]["change"], document["summary"]["destroy"]) == (3, 1, 3)
    assert document["state"] == {"serial": 1, "lineage": "lin"}


def test_plan_made_by_the_runner_renders_its_creates(lab):
    """End to end: the text and JSON of a real plan name the object and its arguments."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 3}
    """)
    planned = lab.plan()
    text = planned.text()
    assert "  # memory_thing.web will be created" in text
    assert "      + size     = 3" in text
    assert "      + id       = (known after apply)" in text
    document = json.loads(planned.json())
    assert [(c["address"], c["change"]["actions"]) for c in document["resource_changes"]] == [("memory_thing.web", ["create"])]
    assert document["resource_changes"][0]["change"]["after"]["size"] == 3
