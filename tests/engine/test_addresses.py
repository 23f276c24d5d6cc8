"""Addresses in Terraform's canonical form: instance keys and module paths parse, print and sort."""

from __future__ import annotations

import pytest

from labform.engine.addresses import Address, ModuleAddress, parse_target

FORMS = [
    "bitbar_project.shop",
    "data.bitbar_devices.all",
    "bitbar_run.smoke[0]",
    'bitbar_project.app["checkout"]',
    'bitbar_project.app["with \\"quotes\\" and ünïcode"]',
    'module.ci["checkout"].bitbar_run.smoke[0]',
    "module.outer.module.inner[2].data.wetest_clouds.all",
    "kyaraben_avm.lab-1",
]


@pytest.mark.parametrize("text", FORMS)
def test_every_form_prints_as_written_and_parses_back(text):
    assert str(Address.parse(text)) == text
    assert Address.parse(str(Address.parse(text))) == Address.parse(text)


def test_parts_of_an_instance_in_a_module():
    address = Address.parse('module.ci["checkout"].bitbar_run.smoke[0]')
    assert (address.type, address.name, address.key, address.module) == (
        "bitbar_run",
        "smoke",
        0,
        (("ci", "checkout"),),
    )
    assert str(address.block) == 'module.ci["checkout"].bitbar_run.smoke'
    assert address.provider == "bitbar"


def test_a_plain_state_key_reads_as_the_same_address_as_before():
    """A state written before instances existed keys TYPE.NAME: the same address, equal and hashed alike."""
    assert Address.parse("bitbar_project.shop") == Address("bitbar_project", "shop")
    assert hash(Address.parse("bitbar_project.shop")) == hash(Address("bitbar_project", "shop"))


def test_a_block_contains_its_instances_and_an_instance_only_itself():
    block, first = Address.parse("bitbar_run.smoke"), Address.parse("bitbar_run.smoke[0]")
    assert block.contains(first) and block.contains(block)
    assert not first.contains(block) and not first.contains(Address.parse("bitbar_run.smoke[1]"))
    assert not block.contains(Address.parse("bitbar_run.smoked[0]"))


def test_instances_sort_by_position_then_name_and_root_blocks_first():
    texts = ["bitbar_run.a[10]", "module.m.bitbar_run.a", "bitbar_run.a[2]", "bitbar_run.a", 'bitbar_run.b["x"]']
    assert [str(a) for a in sorted(map(Address.parse, texts))] == [
        "bitbar_run.a",
        "bitbar_run.a[2]",
        "bitbar_run.a[10]",
        'bitbar_run.b["x"]',
        "module.m.bitbar_run.a",
    ]


@pytest.mark.parametrize("text", ["bitbar_run", "bitbar_run.smoke[x]", "bitbar_run.smoke['k']", "a.b.c"])
def test_a_malformed_address_says_which_forms_are_expected(text):
    with pytest.raises(ValueError, match=r"is not an address \(expected TYPE.NAME, .*TYPE.NAME\[0\]"):
        Address.parse(text)


@pytest.mark.parametrize(
    ("target", "inside", "outside"),
    [
        ("module.ci", ['module.ci["a"].bitbar_project.p', "module.ci.module.x.bitbar_run.r"], ["bitbar_project.p"]),
        ('module.ci["a"]', ['module.ci["a"].bitbar_project.p'], ['module.ci["b"].bitbar_project.p', "module.cd.t.n"]),
        ("module.ci.module.x[0]", ["module.ci.module.x[0].t.n"], ["module.ci.module.x[1].t.n", "module.ci.t.n"]),
    ],
)
def test_a_module_target_holds_every_object_inside_it(target, inside, outside):
    parsed = parse_target(target)
    assert isinstance(parsed, ModuleAddress) and str(parsed) == target
    assert all(parsed.contains(Address.parse(a)) for a in inside)
    assert not any(parsed.contains(Address.parse(a)) for a in outside)


def test_a_target_that_names_an_object_is_an_address():
    assert parse_target('module.ci["a"].bitbar_project.p') == Address.parse('module.ci["a"].bitbar_project.p')
    with pytest.raises(ValueError):
        parse_target("module.")
