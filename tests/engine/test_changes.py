"""Plans are plain data: a fixed set of actions, counted and looked up without any cloud."""

from __future__ import annotations

import pytest

from labform.engine.addresses import Address
from labform.engine.changes import Action, Plan, ResourceChange


def change(address: str, action: Action) -> ResourceChange:
    before = None if action in (Action.CREATE, Action.READ) else {"id": "1"}
    after = None if action == Action.DELETE else {"id": "1"}
    return ResourceChange(Address.parse(address), action, before, after)


def plan_of(*changes: ResourceChange) -> Plan:
    return Plan(changes=list(changes), state_serial=3, state_lineage="lin", file_hashes={})


@pytest.mark.parametrize(
    "action, json_actions",
    [
        (Action.NOOP, ["no-op"]),
        (Action.CREATE, ["create"]),
        (Action.UPDATE, ["update"]),
        (Action.DELETE_THEN_CREATE, ["delete", "create"]),
        (Action.CREATE_THEN_DELETE, ["create", "delete"]),
        (Action.DELETE, ["delete"]),
        (Action.READ, ["read"]),
    ],
)
def test_each_action_has_terraforms_json_spelling(action, json_actions):
    """A replace is two JSON actions in the order they happen; every other action is one."""
    assert action.json_actions() == json_actions


def test_only_the_two_replace_orders_are_replaces():
    """is_replace is true for delete-then-create and create-then-delete, and nothing else."""
    assert {
        a
        for a in (
            Action.NOOP,
            Action.CREATE,
            Action.UPDATE,
            Action.DELETE_THEN_CREATE,
            Action.CREATE_THEN_DELETE,
            Action.DELETE,
            Action.READ,
        )
        if a.is_replace
    } == {
        Action.DELETE_THEN_CREATE,
        Action.CREATE_THEN_DELETE,
    }


def test_counts_add_a_replace_to_both_add_and_destroy():
    """The summary counts a create as add, an update as change, a delete as destroy and a replace as both."""
    plan = plan_of(
        change("memory_thing.a", Action.CREATE),
        change("memory_thing.b", Action.UPDATE),
        change("memory_thing.c", Action.DELETE),
        change("memory_thing.d", Action.DELETE_THEN_CREATE),
        change("memory_thing.e", Action.CREATE_THEN_DELETE),
        change("memory_thing.f", Action.NOOP),
        change("data.memory_lookup.g", Action.READ),
    )
    counts = plan.counts()
    assert (counts["add"], counts["change"], counts["destroy"]) == (3, 1, 3)


def test_plan_of_no_ops_and_reads_has_no_changes():
    """Reading data and leaving objects alone is not a change."""
    assert (
        plan_of(change("memory_thing.a", Action.NOOP), change("data.memory_lookup.b", Action.READ)).has_changes is False
    )
    assert plan_of().has_changes is False


@pytest.mark.parametrize(
    "action", [Action.CREATE, Action.UPDATE, Action.DELETE, Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE]
)
def test_any_write_action_makes_the_plan_have_changes(action):
    """One create, update, delete or replace among no-ops is enough for has_changes."""
    assert plan_of(change("memory_thing.a", Action.NOOP), change("memory_thing.b", action)).has_changes is True


def test_change_for_finds_a_change_by_address():
    """change_for returns the change of an address, or None when the plan has none for it."""
    wanted = change("memory_thing.b", Action.UPDATE)
    plan = plan_of(change("memory_thing.a", Action.CREATE), wanted)
    assert plan.change_for(Address.parse("memory_thing.b")) is wanted
    assert plan.change_for(Address.parse("memory_thing.zz")) is None
    assert plan.change_for(Address("memory_thing", "a", is_data=True)) is None


def test_actions_are_their_words():
    """Actions compare equal to their plain names (they are str enums), as the JSON plan writes them."""
    assert Action("delete-then-create") is Action.DELETE_THEN_CREATE
    assert Action.NOOP == "no-op"
