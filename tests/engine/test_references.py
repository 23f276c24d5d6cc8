"""Parsing and substituting ${...} references."""

import pytest

from labform.engine.addresses import Address
from labform.engine.references import UNKNOWN, parse_reference, references_in, substitute


def test_whole_string_reference_keeps_the_value_type():
    """A value that is one reference takes the referenced value as is (an int stays an int)."""
    assert substitute("${bitbar_project.p.id}", lambda ref: 42) == 42


def test_interpolated_reference_becomes_text_and_unknown_spreads():
    """Inside a longer string references are interpolated; one unknown makes the whole string unknown."""
    assert substitute("id-${var.x}-end", lambda ref: 7) == "id-7-end"
    assert substitute("id-${bitbar_project.p.id}", lambda ref: UNKNOWN) is UNKNOWN


def test_escaped_dollar_is_left_literal():
    """$${ writes a literal ${ into the value."""
    assert substitute("cost $${not.a.ref}", lambda ref: 1) == "cost ${not.a.ref}"


def test_env_default_and_data_references_parse():
    """env with :-default, and data.TYPE.NAME.attr with a nested key path."""
    env = parse_reference("env.URL:-https://x")
    assert (env.kind, env.name, env.default) == ("env", "URL", "https://x")
    data = parse_reference("data.bitbar_devices.sony.devices.0")
    assert data.kind == "data" and data.address == Address("bitbar_devices", "sony", True)
    assert data.attribute == ("devices", "0")


def test_malformed_reference_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot parse reference"):
        list(references_in({"a": ["${nonsense}"]}))


def test_only_requested_kinds_are_substituted():
    """Loading resolves env and var early and leaves object references for the planner."""
    value = {"a": "${var.x}", "b": "${bitbar_project.p.id}"}
    assert substitute(value, lambda ref: "X", kinds=frozenset({"var"})) == {"a": "X", "b": "${bitbar_project.p.id}"}


def test_a_body_is_one_reference_or_an_expression():
    """parse_reference gives the reference a plain body names, None for any other expression."""
    assert parse_reference(" var.x ") == parse_reference("var.x")
    assert parse_reference("var.x + 1") is None
    with pytest.raises(ValueError, match="cannot parse expression"):
        parse_reference("var.x +")
