"""Plans shown to people (Terraform-like text) and to tools (JSON)."""

from __future__ import annotations

import json
import re

import pytest

from labform.engine.addresses import Address
from labform.engine.changes import Action, Check, CheckStatus, Plan, ResourceChange
from labform.engine.events import resource_object
from labform.engine.references import UNKNOWN
from labform.engine.render import change_to_dict, plan_json, plan_to_dict, render_plan


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
    read = ResourceChange(
        Address("memory_lookup", "l", True), Action.READ, None, {"name": "n", "value": UNKNOWN}, after_unknown={"value"}
    )
    text = render_plan(plan_of(read))
    assert "  # data.memory_lookup.l will be read during apply" in text
    assert ' <= data "memory_lookup" "l" {' in text
    assert "      + value = (known after apply)" in text


def test_update_shows_only_changed_attributes_and_the_id():
    """An update lists the changed attribute as old -> new, keeps the id for orientation, hides unchanged ones."""
    change = thing(
        "web",
        Action.UPDATE,
        {"id": "t-1", "name": "web", "size": 1},
        {"id": "t-1", "name": "web", "size": 2},
        remote_id="t-1",
    )
    text = render_plan(plan_of(change))
    assert "      ~ size = 1 -> 2" in text
    assert '        id   = "t-1"' in text
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
    change = thing(
        "web",
        Action.DELETE_THEN_CREATE,
        {"id": "t-1"},
        {"id": UNKNOWN},
        after_unknown={"id"},
        requires_replace=["(replace requested)"],
    )
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
    assert (
        render_plan(plan_of(thing("a", Action.NOOP, {"id": "1"}, {"id": "1"})))
        == "No changes. Your cloud matches the plan."
    )


def test_drift_is_noted_before_the_changes():
    """Objects changed outside labform are listed in a note ahead of the actions."""
    drift = thing(
        "web", Action.UPDATE, {"id": "1", "size": 1}, {"id": "1", "size": 9}, reason="changed outside labform"
    )
    update = thing("web", Action.UPDATE, {"id": "1", "size": 9}, {"id": "1", "size": 1})
    text = render_plan(plan_of(update), [drift])
    assert text.index("Note: objects have changed outside of labform:") < text.index(
        "labform will perform the following actions:"
    )
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
    assert item["change"]["before"]["secret"] is None
    assert item["change"]["after"]["secret"] is None
    assert item["change"]["after_sensitive"] == {"secret": True}
    assert "sha256:" not in plan_json(plan_of(change))


def test_json_lists_every_change_with_terraforms_actions():
    """resource_changes carries each address with its actions list, no-ops included; the summary agrees."""
    document = json.loads(
        plan_json(
            plan_of(
                thing("a", Action.CREATE, None, {"id": UNKNOWN, "name": "a"}, after_unknown={"id"}),
                thing("b", Action.UPDATE, {"id": "1"}, {"id": "1"}),
                thing(
                    "c",
                    Action.DELETE_THEN_CREATE,
                    {"id": "2"},
                    {"id": UNKNOWN},
                    after_unknown={"id"},
                    requires_replace=["kind"],
                ),
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
    assert (created["before"], created["after"], created["after_unknown"]) == (
        None,
        {"name": "a"},  # id is known only after apply: left out, marked in after_unknown
        {"id": True},
    )
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
    assert [(c["address"], c["change"]["actions"]) for c in document["resource_changes"]] == [
        ("memory_thing.web", ["create"])
    ]
    assert document["resource_changes"][0]["change"]["after"]["size"] == 3


# --- Terraform's JSON plan keys (docs/plan-json.md) --------------------------------------------

TERRAFORM_KEYS = {
    "format_version",
    "terraform_version",
    "labform_version",
    "timestamp",
    "variables",
    "planned_values",
    "prior_state",
    "configuration",
    "resource_changes",
    "resource_drift",
    "output_changes",
    "applyable",
    "complete",
    "errored",
}


def json_plan(lab, **options) -> dict:
    """The JSON plan of the lab's plan, rendered with its configuration and the state it was planned against."""
    workspace = lab.workspace()
    state = workspace.backend().read()
    planned = lab.plan(**options)
    return json.loads(
        json.dumps(plan_to_dict(planned.plan, planned.drift, config=workspace.config(), state=state), default=str)
    )


def resources_of(values: dict) -> dict[str, dict]:
    return {item["address"]: item for item in values["root_module"]["resources"]}


def test_json_plan_carries_terraforms_top_level_keys(lab):
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 3}
    """)
    document = json_plan(lab)
    assert set(document) >= TERRAFORM_KEYS
    assert document["format_version"] == "1.2" and document["terraform_version"] == document["labform_version"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["timestamp"])
    assert (document["applyable"], document["complete"], document["errored"]) == (True, True, False)


def test_planned_values_and_prior_state_are_values_with_secrets_masked(lab):
    """prior_state: objects as refreshed; planned_values: as they will be (unknown values left out)."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 3, secret: hunter2-secret}
          memory_thing.old: {name: old}
    """)
    lab.apply_ok()
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 4, secret: hunter2-secret}
          memory_thing.new: {name: new}
    """)
    document = json_plan(lab)
    prior, planned = resources_of(document["prior_state"]["values"]), resources_of(document["planned_values"])
    assert set(prior) == {"memory_thing.web", "memory_thing.old"}
    assert set(planned) == {"memory_thing.web", "memory_thing.new"}  # old is deleted
    web = planned["memory_thing.web"]
    assert (web["mode"], web["type"], web["name"], web["provider_name"]) == (
        "managed",
        "memory_thing",
        "web",
        "labform.dev/labform/memory",
    )
    assert (prior["memory_thing.web"]["values"]["size"], web["values"]["size"]) == (3, 4)
    assert web["values"]["secret"] is None and web["sensitive_values"] == {"secret": True}
    assert prior["memory_thing.web"]["values"]["secret"] is None
    assert "id" not in planned["memory_thing.new"]["values"]  # known only after apply
    assert "hunter2" not in json.dumps(document) and "sha256:" not in json.dumps(document)


def test_configuration_keeps_references_as_expressions(lab):
    lab.write("""
        variables:
          size: 2
        resources:
          memory_thing.parent: {name: parent}
          memory_thing.child:
            name: child
            size: ${var.size}
            secret: hunter2-secret
            parent: ${memory_thing.parent.id}
            depends_on: [memory_thing.parent]
        data:
          memory_lookup.colour: {name: "${memory_thing.parent.name}"}
    """)
    lab.store.catalog["parent"] = "blue"
    configuration = json_plan(lab)["configuration"]
    blocks = {block["address"]: block for block in configuration["root_module"]["resources"]}
    child = blocks["memory_thing.child"]
    assert child["expressions"]["parent"] == {"references": ["memory_thing.parent.id", "memory_thing.parent"]}
    assert child["expressions"]["size"] == {"constant_value": 2}
    assert child["expressions"]["secret"] == {"constant_value": None}
    assert (child["mode"], child["provider_config_key"], child["depends_on"]) == (
        "managed",
        "memory",
        ["memory_thing.parent"],
    )
    lookup = blocks["data.memory_lookup.colour"]
    assert (lookup["mode"], lookup["expressions"]["name"]) == (
        "data",
        {"references": ["memory_thing.parent.name", "memory_thing.parent"]},
    )
    assert configuration["provider_config"]["memory"]["expressions"]["store"] == {"constant_value": lab.store.id}


def test_output_changes_compare_the_last_apply_with_the_plan(lab):
    """before is the output state has; after what the plan makes it, unknown until apply where it must be."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 3}
        outputs:
          size: ${memory_thing.web.size}
          id: ${memory_thing.web.id}
    """)
    first = json_plan(lab)
    assert first["output_changes"]["size"] == {
        "actions": ["create"],
        "before": None,
        "after": 3,
        "after_unknown": False,
        "before_sensitive": False,
        "after_sensitive": False,
    }
    assert first["output_changes"]["id"]["after_unknown"] is True
    assert first["planned_values"]["outputs"] == {"size": {"sensitive": False, "value": 3}, "id": {"sensitive": False}}
    lab.apply_ok()
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 4}
        outputs:
          size: ${memory_thing.web.size}
          id: ${memory_thing.web.id}
    """)
    second = json_plan(lab)
    assert second["output_changes"]["size"]["actions"] == ["update"]
    assert (second["output_changes"]["size"]["before"], second["output_changes"]["size"]["after"]) == (3, 4)
    assert second["output_changes"]["id"]["actions"] == ["no-op"]
    assert second["prior_state"]["values"]["outputs"]["size"] == {"sensitive": False, "value": 3}
    destroy = json_plan(lab, destroy=True)
    assert {name: change["actions"] for name, change in destroy["output_changes"].items()} == {
        "size": ["delete"],
        "id": ["delete"],
    }


def test_a_targeted_plan_is_not_complete_and_prior_state_still_has_everything(lab):
    lab.write("""
        resources:
          memory_thing.a: {name: a}
          memory_thing.b: {name: b}
    """)
    lab.apply_ok()
    document = json_plan(lab, targets=["memory_thing.a"])
    assert document["complete"] is False
    assert [c["address"] for c in document["resource_changes"]] == ["memory_thing.a"]
    assert set(resources_of(document["prior_state"]["values"])) == {"memory_thing.a", "memory_thing.b"}
    assert json_plan(lab)["complete"] is True
    assert json_plan(lab)["applyable"] is False  # nothing to change


def gauge_plan(*checks: Check, refreshed: bool = True) -> Plan:
    gauge = ResourceChange(Address("memory_gauge", "g"), Action.NOOP, {"id": "1"}, {"id": "1"})
    return Plan([gauge], 1, "lin", {}, checks=list(checks), refreshed=refreshed)


def test_checks_follow_the_changes_and_a_failing_one_is_an_error(memory_registered):
    """No change, yet every check is listed with its verdict; a failing one is an Error naming why."""
    plan = gauge_plan(Check(Address("memory_gauge", "g"), CheckStatus.FAIL, "level 0 is below 5"))
    text = render_plan(plan)
    assert text.splitlines()[:4] == [
        "No changes. Your cloud matches the plan.",
        "",
        "Checks (judged on what the cloud reports now):",
        "  memory_gauge.g: failed (level 0 is below 5)",
    ]
    assert "Error: check memory_gauge.g failed: level 0 is below 5\n  apply exits 1 while it fails;" in text
    passing = render_plan(gauge_plan(Check(Address("memory_gauge", "g"), CheckStatus.PASS), refreshed=False))
    assert "Checks (as state recorded them: -refresh=false read nothing from the cloud):" in passing
    assert "  memory_gauge.g: passed" in passing and "Error" not in passing


def test_json_checks_follow_terraforms_shape(memory_registered):
    """One entry per block (address {kind, to_display, mode, type, name}), its status aggregated over
    its instances; each instance with its status, labform's reason, and problems only when failing."""
    document = plan_to_dict(gauge_plan(Check(Address("memory_gauge", "g"), CheckStatus.FAIL, "level 0 is below 5")))
    assert document["checks"] == [
        {
            "address": {
                "kind": "resource",
                "to_display": "memory_gauge.g",
                "mode": "managed",
                "type": "memory_gauge",
                "name": "g",
            },
            "status": "fail",
            "instances": [
                {
                    "address": {"to_display": "memory_gauge.g"},
                    "status": "fail",
                    "reason": "level 0 is below 5",
                    "problems": [{"message": "level 0 is below 5"}],
                }
            ],
        }
    ]
    assert document["applyable"] is False and document["refresh"] is True
    assert document["summary"]["checks"] == {"pass": 0, "fail": 1, "error": 0, "unknown": 0}


@pytest.mark.parametrize(
    ("statuses", "aggregate"),
    [
        (("pass", "pass"), "pass"),
        (("pass", "unknown"), "unknown"),
        (("unknown", "fail", "pass"), "fail"),
    ],
)
def test_a_blocks_check_status_is_the_worst_of_its_instances(memory_registered, statuses, aggregate):
    """Terraform's aggregate: fail if any instance fails, else unknown if any is unknown, else pass."""
    checks = [
        Check(Address("memory_gauge", "g", key=f"k{index}"), CheckStatus(status), "why" if status != "pass" else "")
        for index, status in enumerate(statuses)
    ]
    [entry] = plan_to_dict(gauge_plan(*checks))["checks"]
    assert entry["status"] == aggregate
    assert [(i["address"]["instance_key"], i["status"]) for i in entry["instances"]] == [
        (f"k{index}", status) for index, status in enumerate(statuses)
    ]


# --- addresses and unknowns as Terraform's JSON takes them apart ---------------------------------


def test_an_instance_in_a_module_has_its_module_address_and_index():
    """module_address is the module part of the address (only inside a module); index the instance key,
    a string for for_each and a number for count; the stream's resource object splits it the same way."""
    inside = Address("bitbar_run", "smoke", key="android", module=(("ci", "checkout"), ("leaf", 0)))
    counted = Address("bitbar_run", "smoke", key=2)
    fields = change_to_dict(ResourceChange(inside, Action.CREATE, None, {"name": "x"}))
    assert fields["address"] == 'module.ci["checkout"].module.leaf[0].bitbar_run.smoke["android"]'
    assert (fields["module_address"], fields["index"]) == ('module.ci["checkout"].module.leaf[0]', "android")
    assert fields["provider_name"] == "labform.dev/labform/bitbar"
    assert change_to_dict(ResourceChange(counted, Action.CREATE, None, {}))["index"] == 2
    root = change_to_dict(ResourceChange(Address("bitbar_run", "smoke"), Action.CREATE, None, {}))
    assert "module_address" not in root and "index" not in root
    assert resource_object(inside) == {
        "addr": str(inside),
        "module": 'module.ci["checkout"].module.leaf[0]',
        "resource": 'bitbar_run.smoke["android"]',
        "implied_provider": "bitbar",
        "resource_type": "bitbar_run",
        "resource_name": "smoke",
        "resource_key": "android",
    }
    assert resource_object(counted)["module"] == "" and resource_object(counted)["resource"] == "bitbar_run.smoke[2]"


def test_unknowns_are_left_out_of_after_and_marked_where_they_are():
    """Terraform's after_unknown: an unknown attribute is left out of after; inside an object only the
    unknown member is; a list keeps its positions (null) and marks each; a computed attribute absent
    from after is marked too; a sensitive known value is masked, an unknown one just marked."""
    change = thing(
        "x",
        Action.CREATE,
        None,
        {
            "id": UNKNOWN,
            "name": "x",
            "tags": {"team": "qa", "run": UNKNOWN},
            "devices": [1, UNKNOWN],
            "secret": UNKNOWN,
            "token": "t0ps3cr3t-fingerprint",
        },
        after_unknown={"id", "tags", "devices", "secret", "created_at"},
        sensitive=frozenset({"secret", "token"}),
    )
    planned = change_to_dict(change)["change"]
    assert planned["after"] == {"name": "x", "tags": {"team": "qa"}, "devices": [1, None], "token": None}
    assert planned["after_unknown"] == {
        "created_at": True,
        "devices": [False, True],
        "id": True,
        "secret": True,
        "tags": {"run": True},
    }
    assert (planned["before_sensitive"], planned["after_sensitive"]) == (False, {"secret": True, "token": True})
