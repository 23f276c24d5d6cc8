"""for_each and count keys, as Terraform makes them, and the mistakes it refuses."""

from __future__ import annotations

import pytest

from labform.engine.instances import PLAIN, InstanceError, instances


def test_a_block_with_neither_is_one_plain_instance():
    assert instances({"name": "x"}) == PLAIN


def test_count_makes_positions():
    assert instances({"count": 3}) == [(0, None), (1, None), (2, None)]
    assert instances({"count": "2"}) == [(0, None), (1, None)]  # a --var gives a string
    assert instances({"count": 0}) == []


def test_for_each_over_a_map_keys_by_its_keys_with_their_values():
    assert instances({"for_each": {"search": 2, "checkout": 1}}) == [("checkout", 1), ("search", 2)]


def test_for_each_over_a_list_keys_by_its_strings_so_reordering_changes_nothing():
    assert instances({"for_each": ["b", "a"]}) == instances({"for_each": ["a", "b"]}) == [("a", "a"), ("b", "b")]


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"for_each": 3}, "for_each", "for_each takes a map or a list of strings, not a number"),
        ({"for_each": ["a", 1]}, "for_each", "item 1 of the list is a number"),
        ({"for_each": ["a", "a"]}, "for_each", "items 0 and 1 both make the key 'a'"),
        ({"for_each": {1: "x", "1": "y"}}, "for_each", "both make the key '1'"),
        ({"count": -1}, "count", "count must be 0 or more, not -1"),
        ({"count": 1.5}, "count", "count must be a whole number, not 1.5"),
        ({"count": True}, "count", "count must be a whole number, not True"),
        ({"count": 1, "for_each": ["a"]}, "count", "for_each or count, not both"),
        ({"for_each": "${bitbar_project.p.id}"}, "for_each", "reads bitbar_project.p, known only after apply"),
    ],
)
def test_keys_that_name_no_instances_are_refused_naming_the_field(body, field, message):
    with pytest.raises(InstanceError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        instances(body)
    assert caught.value.field == field
