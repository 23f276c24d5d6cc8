"""The credits price of a device set, read through its resource type (what the cost after a run uses)."""

from __future__ import annotations

from labform.engine.arguments import type_named


def test_bitbar_device_sets_give_their_recorded_price():
    for type_name in ("bitbar_device_group", "bitbar_project_config"):
        priced = type_named(type_name)
        assert priced.credits_price({"credits_price": 4}) == 4.0
        assert priced.credits_price({"credits_price": 0.5}) == 0.5


def test_no_price_when_none_is_recorded_or_it_is_not_a_number():
    group = type_named("bitbar_device_group")
    assert group.credits_price({}) is None
    assert group.credits_price({"credits_price": None}) is None
    assert group.credits_price({"credits_price": True}) is None
    assert group.credits_price({"credits_price": "4"}) is None


def test_types_of_clouds_that_do_not_price_devices_have_none():
    for type_name in ("bitbar_project", "bitbar_run", "kyaraben_campaign", "wetest_test"):
        assert type_named(type_name).credits_price({"credits_price": 4}) is None
