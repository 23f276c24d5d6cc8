"""moved and removed entries: chains, block moves, and the mistakes refused before any call."""

from __future__ import annotations

from labform.engine.addresses import Address
from labform.engine.moves import carried, parse_moves, parse_removals, refuse_still_planned

A = Address.parse


def parsed(entries):
    problems: list[tuple[tuple, str]] = []
    return parse_moves(entries, lambda path, message: problems.append((path, message))), problems


def test_a_chain_of_moves_carries_state_to_its_end():
    moves, problems = parsed([{"from": "x_t.a", "to": "x_t.b"}, {"from": "x_t.b", "to": "x_t.c"}])
    assert problems == []
    assert carried(moves, [A("x_t.a"), A("x_t.other")]) == {A("x_t.a"): A("x_t.c")}


def test_a_move_into_a_for_each_instance():
    moves, _ = parsed([{"from": "x_t.shop", "to": 'x_t.app["shop"]'}])
    assert carried(moves, [A("x_t.shop")]) == {A("x_t.shop"): A('x_t.app["shop"]')}


def test_a_block_move_carries_each_instance_under_its_key():
    moves, _ = parsed([{"from": "x_t.a", "to": "x_t.b"}])
    assert carried(moves, [A("x_t.a[0]"), A('x_t.a["k"]')]) == {
        A("x_t.a[0]"): A("x_t.b[0]"),
        A('x_t.a["k"]'): A('x_t.b["k"]'),
    }


def test_a_cycle_is_refused_with_its_path():
    _, problems = parsed([{"from": "x_t.a", "to": "x_t.b"}, {"from": "x_t.b", "to": "x_t.a"}])
    assert (("moved", 0), "moves go round in a cycle: x_t.a -> x_t.b -> x_t.a") in problems


def test_malformed_entries_name_their_field():
    _, problems = parsed(
        [{"from": "x_t.a"}, {"from": "not an address", "to": "x_t.b"}, {"from": "x_t.c", "to": "x_t.d", "into": 1}]
    )
    assert [path for path, _ in problems] == [("moved", 0), ("moved", 1, "from"), ("moved", 2, "into")]


def test_a_from_still_in_the_plan_is_refused():
    moves, _ = parsed([{"from": "x_t.a", "to": "x_t.b"}])
    problems: list[tuple[tuple, str]] = []
    refuse_still_planned(moves, [], {A("x_t.a[0]"), A("x_t.b")}, lambda path, message: problems.append((path, message)))
    assert problems == [(("moved", 0, "from"), "x_t.a is still in the plan: remove its block, or drop this move")]


def test_removed_needs_to_say_whether_to_destroy():
    problems: list[tuple[tuple, str]] = []
    removals = parse_removals(
        [{"from": "x_t.a", "lifecycle": {"destroy": False}}, {"from": "x_t.b"}],
        lambda path, message: problems.append((path, message)),
    )
    assert [(str(r.address), r.destroy) for r in removals] == [("x_t.a", False)]
    assert [path for path, _ in problems] == [("removed", 1, "lifecycle")]
