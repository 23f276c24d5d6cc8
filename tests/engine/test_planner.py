"""The planner: refresh, diff, and the one place create / update / replace / delete / no-op are chosen."""

from __future__ import annotations

import re

import pytest

from labform.engine.addresses import Address
from labform.engine.changes import Action
from labform.engine.errors import ConfigError
from labform.providers.errors import ProviderError
from tests.engine.conftest import actions

TWO_THINGS = """
resources:
  memory_thing.web:
    name: web
    kind: small
    size: 1
  memory_thing.db:
    name: db
    size: 2
"""


def test_plan_creates_every_object_of_a_new_plan(lab):
    """With empty state every block is a create, and apply makes exactly those objects."""
    lab.write(TWO_THINGS)
    planned = lab.plan()
    assert actions(planned.plan) == {"memory_thing.db": "create", "memory_thing.web": "create"}
    assert lab.store.ops() == []  # planning writes nothing

    outcome = lab.apply_ok()
    assert (outcome.result.added, outcome.result.changed, outcome.result.destroyed) == (2, 0, 0)
    assert lab.store.names() == ["db", "web"]
    assert lab.store.named("web")["size"] == 1
    assert lab.state_id("memory_thing.web") == lab.store.named("web")["id"]


def test_plan_updates_in_place_when_a_plain_argument_changes(lab):
    """Changing an argument without force_new updates the same remote object, nothing else."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    web_id = lab.store.named("web")["id"]
    lab.store.forget_calls()

    lab.write(TWO_THINGS.replace("size: 1", "size: 5"))
    planned = lab.plan()
    assert actions(planned.plan) == {"memory_thing.db": "no-op", "memory_thing.web": "update"}
    change = planned.plan.change_for(Address.parse("memory_thing.web"))
    assert (change.before["size"], change.after["size"], change.requires_replace) == (1, 5, [])

    outcome = lab.apply_ok()
    assert (outcome.result.added, outcome.result.changed, outcome.result.destroyed) == (0, 1, 0)
    assert lab.store.ops() == [("update", "web")]
    assert lab.store.named("web")["id"] == web_id
    assert lab.store.named("web")["size"] == 5


def test_plan_replaces_delete_then_create_when_force_new_argument_changes(lab):
    """A force_new argument change replaces the object; by default the old one is deleted first."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    old_id = lab.store.named("web")["id"]
    lab.store.forget_calls()

    lab.write(TWO_THINGS.replace("kind: small", "kind: large"))
    planned = lab.plan()
    change = planned.plan.change_for(Address.parse("memory_thing.web"))
    assert change.action == Action.DELETE_THEN_CREATE
    assert change.requires_replace == ["kind"]

    outcome = lab.apply_ok()
    assert (outcome.result.added, outcome.result.changed, outcome.result.destroyed) == (1, 0, 1)
    assert lab.store.ops() == [("delete", "web"), ("create", "web")]
    assert lab.store.named("web")["kind"] == "large"
    assert lab.store.named("web")["id"] != old_id
    assert lab.state_id("memory_thing.web") == lab.store.named("web")["id"]


def test_plan_replaces_create_then_delete_with_create_before_destroy(lab):
    """lifecycle.create_before_destroy makes the replacement first and deletes the old object after."""
    body = TWO_THINGS.replace("    size: 1\n", "    size: 1\n    lifecycle: {create_before_destroy: true}\n")
    lab.write(body)
    lab.apply_ok()
    old_id = lab.store.named("web")["id"]
    lab.store.forget_calls()

    lab.write(body.replace("kind: small", "kind: large"))
    assert lab.plan().plan.change_for(Address.parse("memory_thing.web")).action == Action.CREATE_THEN_DELETE

    lab.apply_ok()
    assert lab.store.ops() == [("create", "web"), ("delete", "web")]
    create, delete = lab.store.call_of("create", "web"), lab.store.call_of("delete", "web")
    assert create.finished <= delete.started
    assert old_id not in lab.store.objects
    assert lab.store.named("web")["kind"] == "large"
    assert lab.state_id("memory_thing.web") == lab.store.named("web")["id"]


def test_plan_deletes_an_orphan_whose_block_was_removed(lab):
    """A block removed from the plan is deleted from the cloud and forgotten by state."""
    lab.write(TWO_THINGS)
    lab.apply_ok()

    lab.write("""
        resources:
          memory_thing.web:
            name: web
            kind: small
            size: 1
    """)
    planned = lab.plan()
    assert actions(planned.plan) == {"memory_thing.db": "delete", "memory_thing.web": "no-op"}
    assert planned.plan.change_for(Address.parse("memory_thing.db")).reason == "not in the plan any more"

    outcome = lab.apply_ok()
    assert outcome.result.destroyed == 1
    assert lab.store.names() == ["web"]
    assert set(lab.state()["resources"]) == {"memory_thing.web"}


def test_second_plan_after_apply_has_no_changes(lab):
    """Applying and planning again finds nothing to do: every change is a no-op and no write is made."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    lab.store.forget_calls()

    planned = lab.plan()
    assert set(actions(planned.plan).values()) == {"no-op"}
    assert planned.plan.has_changes is False
    assert planned.drift == []
    assert "No changes." in planned.text()

    lab.apply_ok()
    assert lab.store.ops() == []


def test_plan_sees_an_argument_changed_in_the_cloud_and_apply_repairs_it(lab):
    """Drift: an object edited behind labform's back shows as drift and an update, and apply sets it back."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    lab.store.edit("web", size=9)

    planned = lab.plan()
    assert [(str(c.address), c.action, c.reason) for c in planned.drift] == [
        ("memory_thing.web", Action.UPDATE, "changed outside labform")
    ]
    change = planned.plan.change_for(Address.parse("memory_thing.web"))
    assert (change.action, change.before["size"], change.after["size"]) == (Action.UPDATE, 9, 1)

    lab.apply_ok()
    assert lab.store.named("web")["size"] == 1
    assert lab.plan().plan.has_changes is False


def test_plan_recreates_an_object_deleted_in_the_cloud(lab):
    """Drift: an object deleted behind labform's back is planned as a create and made again."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    lab.store.remove("db")

    planned = lab.plan()
    assert [(str(c.address), c.reason) for c in planned.drift] == [("memory_thing.db", "deleted outside labform")]
    change = planned.plan.change_for(Address.parse("memory_thing.db"))
    assert change.action == Action.CREATE
    assert change.reason == "gone from the cloud (deleted outside labform)"

    lab.apply_ok()
    assert lab.store.names() == ["db", "web"]
    assert lab.state_id("memory_thing.db") == lab.store.named("db")["id"]
    assert lab.plan().plan.has_changes is False


def test_plan_honours_ignore_changes(lab):
    """An argument listed in lifecycle.ignore_changes is neither updated when edited nor when it drifts."""
    body = TWO_THINGS.replace("    size: 1\n", "    size: 1\n    lifecycle: {ignore_changes: [size]}\n")
    lab.write(body)
    lab.apply_ok()

    lab.store.edit("web", size=7)
    lab.write(body.replace("size: 1", "size: 3"))
    planned = lab.plan()
    assert planned.plan.change_for(Address.parse("memory_thing.web")).action == Action.NOOP
    assert planned.plan.has_changes is False

    lab.apply_ok()
    assert lab.store.named("web")["size"] == 7


def test_ignore_changes_still_lets_other_arguments_update(lab):
    """ignore_changes covers only the arguments it names: another edited argument is still updated."""
    body = TWO_THINGS.replace("    size: 1\n", "    size: 1\n    tags: [a]\n    lifecycle: {ignore_changes: [size]}\n")
    lab.write(body)
    lab.apply_ok()
    lab.store.edit("web", size=7)

    lab.write(body.replace("tags: [a]", "tags: [b]"))
    change = lab.plan().plan.change_for(Address.parse("memory_thing.web"))
    assert change.action == Action.UPDATE
    assert change.after["size"] == 7  # the ignored value is kept as the cloud has it

    lab.apply_ok()
    assert (lab.store.named("web")["tags"], lab.store.named("web")["size"]) == (["b"], 7)


def test_prevent_destroy_refuses_a_destroy_naming_the_address(lab):
    """lifecycle.prevent_destroy makes a destroy plan fail with the block's address and location, before any call."""
    lab.write("""
        resources:
          memory_thing.keep:
            name: keep
            lifecycle: {prevent_destroy: true}
    """)
    lab.apply_ok()
    lab.store.forget_calls()

    with pytest.raises(ConfigError, match=r"main\.yaml:6:3: memory_thing\.keep: lifecycle\.prevent_destroy is set"):
        lab.destroy()
    assert lab.store.ops() == []
    assert lab.store.names() == ["keep"]


def test_prevent_destroy_refuses_a_replace_naming_the_address(lab):
    """A force_new change on a prevent_destroy object is refused, naming the address and the forcing argument."""
    body = """
        resources:
          memory_thing.keep:
            name: keep
            kind: small
            lifecycle: {prevent_destroy: true}
    """
    lab.write(body)
    lab.apply_ok()

    lab.write(body.replace("kind: small", "kind: large"))
    with pytest.raises(ConfigError) as error:
        lab.plan()
    assert "memory_thing.keep" in str(error.value)
    assert "must be replaced (because of kind), but lifecycle.prevent_destroy is set" in str(error.value)
    with pytest.raises(ConfigError):
        lab.apply()
    assert lab.store.named("keep")["kind"] == "small"


def test_prevent_destroy_refuses_a_requested_replace(lab):
    """--replace of a prevent_destroy object is refused like any other replacement."""
    lab.write("""
        resources:
          memory_thing.keep:
            name: keep
            lifecycle: {prevent_destroy: true}
    """)
    lab.apply_ok()
    with pytest.raises(ConfigError, match=r"memory_thing\.keep: must be replaced \(because of \(replace requested\)\)"):
        lab.plan(replace=["memory_thing.keep"])


def test_targeted_destroy_is_not_blocked_by_prevent_destroy_on_an_untargeted_object(lab):
    """destroy --target of an unprotected object goes ahead although another object has prevent_destroy."""
    lab.write("""
        resources:
          memory_thing.keep:
            name: keep
            lifecycle: {prevent_destroy: true}
          memory_thing.scratch:
            name: scratch
    """)
    lab.apply_ok()

    lab.destroy(targets=["memory_thing.scratch"])
    assert lab.store.names() == ["keep"]


CHAIN = """
resources:
  memory_thing.base:
    name: base
  memory_thing.middle:
    name: middle
    parent: ${memory_thing.base.id}
  memory_thing.top:
    name: top
    parent: ${memory_thing.middle.id}
  memory_thing.other:
    name: other
"""


def test_target_limits_the_plan_to_the_target_and_what_it_needs(lab):
    """--target keeps the named object and its dependencies; dependents and unrelated objects are left out."""
    lab.write(CHAIN)
    planned = lab.plan(targets=["memory_thing.middle"])
    assert actions(planned.plan) == {"memory_thing.base": "create", "memory_thing.middle": "create"}

    lab.apply_ok(targets=["memory_thing.middle"])
    assert lab.store.names() == ["base", "middle"]
    assert set(lab.state()["resources"]) == {"memory_thing.base", "memory_thing.middle"}


def test_target_leaves_orphans_alone(lab):
    """A targeted plan does not delete objects whose blocks were removed, unless they are targeted."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    lab.write("""
        resources:
          memory_thing.web:
            name: web
            kind: small
            size: 2
    """)
    assert actions(lab.plan(targets=["memory_thing.web"]).plan) == {"memory_thing.web": "update"}
    assert actions(lab.plan(targets=["memory_thing.db"]).plan) == {"memory_thing.db": "delete"}

    lab.apply_ok(targets=["memory_thing.web"])
    assert lab.store.names() == ["db", "web"]


def test_targeted_destroy_takes_the_dependents_along(lab):
    """destroy --target removes the target and whatever depends on it, nothing else."""
    lab.write(CHAIN)
    lab.apply_ok()

    planned = lab.plan(destroy=True, targets=["memory_thing.middle"])
    assert actions(planned.plan) == {"memory_thing.middle": "delete", "memory_thing.top": "delete"}
    lab.destroy(targets=["memory_thing.middle"])
    assert lab.store.names() == ["base", "other"]


def test_replace_option_forces_the_replacement_of_an_unchanged_object(lab):
    """--replace ADDR replaces an object whose arguments did not change; the others stay no-ops."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    old_id = lab.store.named("db")["id"]
    lab.store.forget_calls()

    planned = lab.plan(replace=["memory_thing.db"])
    change = planned.plan.change_for(Address.parse("memory_thing.db"))
    assert (change.action, change.requires_replace) == (Action.DELETE_THEN_CREATE, ["(replace requested)"])
    assert planned.plan.change_for(Address.parse("memory_thing.web")).action == Action.NOOP

    lab.apply_ok(replace=["memory_thing.db"])
    assert lab.store.ops() == [("delete", "db"), ("create", "db")]
    assert lab.store.named("db")["id"] != old_id


def test_replace_option_naming_an_unknown_address_is_an_error(lab):
    """--replace of an address neither in the plan nor in state is refused before any call."""
    lab.write(TWO_THINGS)
    with pytest.raises(ConfigError, match=r"'memory_thing\.nope' is neither in the plan nor in state"):
        lab.plan(replace=["memory_thing.nope"])


def test_reference_to_an_object_still_to_create_is_known_after_apply(lab):
    """A reference to the id of an object being created is unknown at plan time and filled in at apply."""
    lab.write(CHAIN)
    planned = lab.plan()
    middle = planned.plan.change_for(Address.parse("memory_thing.middle"))
    assert {"id", "revision", "parent"} <= middle.after_unknown
    assert re.search(r"\+ parent +\= \(known after apply\)", planned.text())

    lab.apply_ok()
    assert lab.store.named("middle")["parent"] == lab.store.named("base")["id"]
    assert lab.store.named("top")["parent"] == lab.store.named("middle")["id"]


def test_replacing_a_dependency_updates_the_dependent_reference(lab):
    """When an object is replaced its new id is unknown, so the object referencing it is updated with the new id."""
    body = CHAIN.replace(
        "  memory_thing.base:\n    name: base\n", "  memory_thing.base:\n    name: base\n    kind: a\n"
    )
    lab.write(body)
    lab.apply_ok()

    lab.write(body.replace("kind: a", "kind: b"))
    assert actions(lab.plan().plan) == {
        "memory_thing.base": "delete-then-create",
        "memory_thing.middle": "update",
        "memory_thing.other": "no-op",
        "memory_thing.top": "no-op",
    }
    lab.apply_ok()
    assert lab.store.named("middle")["parent"] == lab.store.named("base")["id"]
    assert lab.plan().plan.has_changes is False


def test_unordered_list_in_another_order_is_no_change(lab):
    """An unordered argument (a set) written in another order plans no update."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, tags: [a, b, c]}
    """)
    lab.apply_ok()
    lab.write("""
        resources:
          memory_thing.web: {name: web, tags: [c, a, b]}
    """)
    assert lab.plan().plan.has_changes is False


def test_unordered_list_reordered_by_the_cloud_is_not_drift(lab):
    """A cloud that returns an unordered argument in another order has not drifted."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, tags: [a, b, c]}
    """)
    lab.apply_ok()
    lab.store.edit("web", tags=["c", "b", "a"])

    planned = lab.plan()
    assert planned.plan.has_changes is False
    assert planned.drift == []


def test_argument_the_plan_does_not_set_is_left_unmanaged(lab):
    """An argument missing from the block is not managed: a value the cloud has for it is left alone."""
    lab.write("""
        resources:
          memory_thing.web: {name: web}
    """)
    lab.apply_ok()
    lab.store.edit("web", size=42)

    planned = lab.plan()
    assert planned.plan.has_changes is False
    lab.apply_ok()
    assert lab.store.named("web")["size"] == 42


def test_local_argument_is_kept_in_state_but_never_sent_to_the_cloud(lab):
    """A local argument (known only to the plan) reaches state, not the cloud, and never counts as drift."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, note: for humans}
    """)
    lab.apply_ok()
    assert "note" not in lab.store.named("web")
    assert lab.state()["resources"]["memory_thing.web"]["attributes"]["note"] == "for humans"
    planned = lab.plan()
    assert planned.plan.has_changes is False and planned.drift == []


def test_refresh_reads_listable_objects_in_one_batch(lab):
    """Objects whose type has a listing are refreshed with one list call, not one read each."""
    lab.write("resources:\n" + "".join(f"  memory_bucket.b{i}: {{name: b{i}}}\n" for i in range(6)))
    lab.apply_ok()
    lab.store.forget_calls()

    assert lab.plan().plan.has_changes is False
    assert lab.store.ops("list", "read") == [("list", None)]


def test_refresh_reads_objects_without_a_listing_one_by_one(lab):
    """Types without a listing are refreshed through read(), once per object."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    lab.store.forget_calls()

    lab.plan()
    assert sorted(lab.store.ops("list", "read")) == [("read", "db"), ("read", "web")]


def test_bucket_deleted_in_the_cloud_is_found_missing_in_the_batch(lab):
    """A listable object absent from its listing is drift (deleted) and planned as a create."""
    lab.write("""
        resources:
          memory_bucket.logs: {name: logs, region: eu}
          memory_bucket.data: {name: data, region: eu}
    """)
    lab.apply_ok()
    lab.store.remove("logs")
    planned = lab.plan()
    assert actions(planned.plan) == {"memory_bucket.data": "no-op", "memory_bucket.logs": "create"}


TWO_BUCKETS = """
    resources:
      memory_bucket.logs: {name: logs, region: eu}
      memory_bucket.data: {name: data, region: eu}
"""


def test_bucket_a_listing_leaves_out_is_read_once_and_kept_when_the_read_finds_it(lab):
    """A listing is no proof of absence: an object missing from it costs one read, which finds it."""
    lab.write(TWO_BUCKETS)
    lab.apply_ok()
    lab.store.unlist("logs", "data")  # the listing answers an empty page
    lab.store.forget_calls()

    planned = lab.plan()
    assert planned.plan.has_changes is False and planned.drift == []
    assert sorted(lab.store.ops("list", "read")) == [("list", None), ("read", "data"), ("read", "logs")]
    lab.apply_ok(refresh_only=True)
    assert sorted(lab.state()["resources"]) == ["memory_bucket.data", "memory_bucket.logs"]


def test_bucket_is_dropped_only_when_its_own_read_says_it_is_gone(lab):
    """Of two objects missing from the listing, the one whose read finds nothing is drift; the other is kept."""
    lab.write(TWO_BUCKETS)
    lab.apply_ok()
    lab.store.unlist("data")
    lab.store.remove("logs")
    lab.store.forget_calls()

    planned = lab.plan()
    assert [(str(c.address), c.reason) for c in planned.drift] == [("memory_bucket.logs", "deleted outside labform")]
    assert actions(planned.plan) == {"memory_bucket.data": "no-op", "memory_bucket.logs": "create"}
    assert sorted(lab.store.ops("list", "read")) == [("list", None), ("read", "data"), ("read", "logs")]


def test_listing_item_without_an_id_fails_the_refresh_and_leaves_state_alone(lab):
    """An item the listing cannot be read as is an error naming the cloud and the call, never an empty listing."""
    lab.write(TWO_BUCKETS)
    lab.apply_ok()
    before = lab.state()["resources"]
    lab.store.garble_listing({"name": "stray"})
    lab.store.garble_listing("not an object")

    with pytest.raises(ProviderError, match=r"memory: list memory_bucket failed: .*item 2 has no id"):
        lab.plan()
    with pytest.raises(ProviderError, match="memory: list memory_bucket failed"):
        lab.apply(refresh_only=True)
    assert lab.state()["resources"] == before


def test_existing_object_with_the_same_natural_key_suggests_an_import(lab):
    """A create whose natural key matches an object already in the cloud comes with a 'labform import' notice."""
    existing = lab.store.add("memory_thing", name="web")
    lab.write("""
        resources:
          memory_thing.web: {name: web}
    """)
    planned = lab.plan()
    assert [(str(n.address), n.message) for n in planned.plan.notices] == [
        (
            "memory_thing.web",
            f"an object with name='web' already exists (id {existing}); "
            f"run 'labform import memory_thing.web {existing}' to manage it instead of creating a duplicate",
        )
    ]
    assert f"labform import memory_thing.web {existing}" in planned.text()


def test_data_source_is_read_at_plan_time_and_feeds_a_resource(lab):
    """A data source whose arguments are known is read while planning; its value flows into a resource."""
    lab.store.catalog["default_size"] = 3
    lab.write("""
        data:
          memory_lookup.sizes: {name: default_size}
        resources:
          memory_thing.web:
            name: web
            size: ${data.memory_lookup.sizes.value}
    """)
    planned = lab.plan()
    assert actions(planned.plan) == {"memory_thing.web": "create"}
    assert planned.plan.change_for(Address.parse("memory_thing.web")).after["size"] == 3

    lab.apply_ok()
    assert lab.store.named("web")["size"] == 3


def test_data_source_depending_on_an_unknown_is_read_during_apply(lab):
    """A data source whose arguments wait on a create is planned as a read during apply."""
    lab.write("""
        resources:
          memory_thing.web: {name: web}
        data:
          memory_lookup.by_id: {name: "${memory_thing.web.id}"}
    """)
    planned = lab.plan()
    read = planned.plan.change_for(Address("memory_lookup", "by_id", True))
    assert (read.action, read.reason) == (Action.READ, "depends on values known only after apply")
    assert planned.plan.has_changes is True


def test_destroy_plan_deletes_everything_in_state(lab):
    """A destroy plan deletes every managed object, whatever the plan files say."""
    lab.write(CHAIN)
    lab.apply_ok()
    planned = lab.plan(destroy=True)
    assert set(actions(planned.plan).values()) == {"delete"}
    assert planned.plan.counts()["destroy"] == 4

    outcome = lab.destroy()
    assert outcome.result.destroyed == 4
    assert lab.store.names() == []
    assert lab.state()["resources"] == {}


def test_refresh_only_records_drift_without_changing_the_cloud(lab):
    """A refresh-only apply writes what the cloud has into state and makes no remote call that writes."""
    lab.write(TWO_THINGS)
    lab.apply_ok()
    lab.store.edit("web", size=9)
    lab.store.forget_calls()

    planned = lab.plan(refresh_only=True)
    assert actions(planned.plan) == {"memory_thing.db": "no-op", "memory_thing.web": "update"}
    lab.apply(refresh_only=True)
    assert lab.store.ops() == []
    assert lab.state()["resources"]["memory_thing.web"]["attributes"]["size"] == 9


# --- checks: a gate's verdict is never a change ------------------------------
GAUGE = """
    resources:
      memory_gauge.ready: {name: ready, min_level: 5}
"""


def checks(plan) -> list[tuple[str, str, str]]:
    return [(str(c.address), c.status.value, c.why) for c in plan.checks]


def test_a_gate_to_create_is_a_change_and_its_check_unknown_until_apply(lab):
    lab.write(GAUGE)
    planned = lab.plan().plan
    assert actions(planned) == {"memory_gauge.ready": "create"}
    assert checks(planned) == [("memory_gauge.ready", "unknown", "known after apply")]


def test_an_applied_gate_is_no_change_and_its_check_judged_on_what_refresh_read(lab):
    """The verdict moves with the cloud (read afresh by refresh); the plan has no changes either way."""
    lab.write(GAUGE)
    outcome = lab.apply()
    assert outcome.changes_ok and [str(c.address) for c in outcome.failed_checks] == ["memory_gauge.ready"]
    failing = lab.plan().plan
    assert not failing.has_changes and actions(failing)["memory_gauge.ready"] == "no-op"
    assert checks(failing) == [("memory_gauge.ready", "fail", "level 0 is below 5")]
    lab.store.edit("ready", level=7)
    passing = lab.plan().plan
    assert not passing.has_changes
    assert checks(passing) == [("memory_gauge.ready", "pass", "")]


def test_refresh_false_reads_nothing_and_judges_the_check_on_state(lab):
    lab.write(GAUGE)
    lab.apply()
    lab.store.edit("ready", level=7)
    lab.store.forget_calls()
    recorded = lab.plan(refresh=False).plan
    assert lab.store.ops("read") == []
    assert not recorded.refreshed and checks(recorded) == [("memory_gauge.ready", "fail", "level 0 is below 5")]
    assert lab.plan().plan.checks[0].status == "pass"


def test_apply_fails_while_a_check_fails_after_carrying_out_the_changes(lab):
    """A new thing is created; the gate's check fails: the outcome says failed (not incomplete) and names it."""
    lab.write(GAUGE)
    lab.apply()
    lab.write(GAUGE + "      memory_thing.web: {name: web}\n")
    outcome = lab.apply()
    assert outcome.result.added == 1 and outcome.changes_ok and lab.store.named("web")
    assert not outcome.ok and outcome.status == "failed"
    assert outcome.headline() == "Apply failed! Resources: 1 added, 0 changed, 0 destroyed."
    assert [(c["address"], c["status"], c["reason"]) for c in outcome.summary()["checks"]] == [
        ("memory_gauge.ready", "fail", "level 0 is below 5")
    ]
    lab.store.edit("ready", level=5)
    assert lab.apply().ok


def test_a_gate_changed_by_the_plan_is_a_change_with_its_check_unknown(lab):
    lab.write(GAUGE)
    lab.apply()
    lab.write(GAUGE.replace("name: ready,", "name: ready2,"))
    planned = lab.plan().plan
    assert actions(planned)["memory_gauge.ready"] == "update"
    assert checks(planned) == [("memory_gauge.ready", "unknown", "known after apply")]


def test_destroy_and_refresh_only_plans_have_no_checks(lab):
    lab.write(GAUGE)
    lab.apply()
    assert lab.plan(destroy=True).plan.checks == []
    assert lab.plan(refresh_only=True).plan.checks == []
