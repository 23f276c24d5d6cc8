"""Variable types (Terraform's grammar) and declarations: conversion, required values, errors."""

from __future__ import annotations

import pytest

from labform.engine.types import TypeMismatch, parse_type
from labform.engine.variables import variable_values


@pytest.mark.parametrize(
    "text, value, converted",
    [
        ("string", 5, "5"),
        ("string", True, "true"),
        ("number", "3", 3),
        ("number", "2.5", 2.5),
        ("bool", "false", False),
        ("list(number)", ["1", 2], [1, 2]),
        ("map(string)", {"a": 1}, {"a": "1"}),
        ("set(string)", ["a"], ["a"]),
        ("object({name: string, devices: list(string)})", {"name": "x", "devices": []}, {"name": "x", "devices": []}),
        ("object({name = string})", {"name": 1}, {"name": "1"}),
        ("any", {"deep": [1]}, {"deep": [1]}),
    ],
)
def test_values_convert_as_terraform_converts_them(text, value, converted):
    assert parse_type(text).convert(value) == converted


@pytest.mark.parametrize(
    "text, value, message",
    [
        ("number", "three", "expected number, got the string 'three'"),
        ("bool", 1, "expected bool, got a number"),
        ("list(number)", [1, "x"], "[1]: expected number, got the string 'x'"),
        ("map(list(string))", {"a": "b"}, "a: expected list(string), got a string"),
        ("object({name: string})", {"name": "x", "extra": 1}, "has no member 'extra'"),
        ("object({name: string, size: number})", {"name": "x"}, "needs member 'size'"),
    ],
)
def test_a_value_of_another_type_names_where_and_what(text, value, message):
    with pytest.raises(TypeMismatch, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        parse_type(text).convert(value)


@pytest.mark.parametrize("text", ["strng", "list(strng)", "object(name: string)", "object({name})"])
def test_an_unknown_type_is_refused(text):
    with pytest.raises(ValueError):
        parse_type(text)


def test_types_print_back_as_written():
    assert str(parse_type("list(map(object({a: string, b: number})))")) == "list(map(object({a: string, b: number})))"


def values(section, given=None):
    problems: list[tuple[str, str]] = []
    found = variable_values(
        section, given or {}, lambda name, message: problems.append((name, message)), "--var NAME=V"
    )
    return found, problems


def test_bare_defaults_and_declarations_live_side_by_side():
    found, problems = values(
        {"region": "eu", "apps": {"type": "list(string)", "default": ["a", "b"]}, "n": {"type": "number"}},
        {"n": "3"},
    )
    assert problems == [] and found == {"region": "eu", "apps": ["a", "b"], "n": 3}


def test_a_declaration_without_a_default_must_be_given_and_says_how():
    found, problems = values({"token": {"type": "string", "sensitive": True}})
    assert found == {} and problems == [("token", "variable 'token' has no default: give it a value (--var token=V)")]


def test_a_given_value_of_the_wrong_type_is_an_error_naming_the_variable():
    _, problems = values({"n": {"type": "number", "default": 1}}, {"n": "many"})
    assert problems == [("n", "variable 'n': expected number, got the string 'many'")]


def test_a_sensitive_variable_is_masked_in_output():
    from labform.providers.masking import redact

    values({"token": {"type": "string", "sensitive": True, "default": "s3cr3t-value-123"}})
    assert "s3cr3t-value-123" not in redact("the token is s3cr3t-value-123")


def test_a_list_given_as_text_is_read_as_written():
    """--var 'apps=["a", "b"]' gives a string: a list or map type reads it as YAML flow (JSON included)."""
    assert parse_type("list(string)").convert('["a", "b"]') == ["a", "b"]
    assert parse_type("map(number)").convert("{a: 1}") == {"a": 1}
    with pytest.raises(TypeMismatch, match="expected list\\(string\\), got a string"):
        parse_type("list(string)").convert("just words")
