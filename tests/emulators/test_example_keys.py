"""The doc-example key checker (example_keys.py) on hand-made bodies: it reports each kind of departure, and none it is told of."""

from __future__ import annotations

from tests.emulators.example_keys import ExampleKeys, count

EXAMPLE = {"data": {"id": 1, "items": [{"name": "a", "size": 2}]}, "ret": 0}


def test_an_answer_with_the_examples_keys_has_no_problem():
    keys = ExampleKeys(EXAMPLE)
    assert (
        keys.check({"data": {"id": 7, "items": [{"name": "x", "size": 1}, {"name": "y", "size": 3}]}, "ret": 0}) == []
    )
    assert keys.unseen() == []


def test_missing_extra_and_unseen_keys_are_named_by_path():
    keys = ExampleKeys(EXAMPLE, table=("data.items[].owner.email",))
    problems = keys.check({"data": {"items": [{"name": "x", "colour": "red"}]}, "ret": 0, "debug": True})
    assert problems == [
        "extra debug",
        "missing data.id",
        "missing data.items[].owner",
        "missing data.items[].size",
        "extra data.items[].colour",
    ]
    assert keys.unseen() == [
        "unseen data.id",
        "unseen data.items[].owner",
        "unseen data.items[].owner.email",
        "unseen data.items[].size",
    ]
    assert count(problems + keys.unseen()) == {"missing": 3, "extra": 2, "unseen": 4}


def test_every_list_item_is_checked_and_an_empty_list_leaves_its_keys_unseen():
    keys = ExampleKeys(EXAMPLE)
    assert keys.check({"data": {"id": 1, "items": [{"name": "x", "size": 1}, {"name": "y"}]}, "ret": 0}) == [
        "missing data.items[].size"
    ]
    empty = ExampleKeys(EXAMPLE)
    assert empty.check({"data": {"id": 1, "items": []}, "ret": 0}) == []
    assert empty.unseen() == ["unseen data.items[].name", "unseen data.items[].size"]


def test_listed_departures_are_not_reported():
    keys = ExampleKeys(
        {**EXAMPLE, "caps": {"platformName": "Android"}},
        conditional={"data.id": "some objects only", "caps.*": "keys are data"},
        unproduced={"data.items[]": "never written"},
        extra={"debug": "a variant's extra key"},
    )
    answer = {"data": {"items": [{}]}, "ret": 0, "debug": 1, "caps": {"browserName": "Chrome"}}
    assert keys.check(answer) == []
    # A conditional key must still show somewhere; what is never written need not.
    assert keys.unseen() == ["unseen data.id"]
