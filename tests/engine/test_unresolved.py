"""A create whose outcome labform cannot establish holds every apply until the user resolves it;
a look-up that finds nothing proves absence only where the type says it does."""

from __future__ import annotations

import json

import pytest

from labform.engine import ci, runner
from labform.engine.addresses import Address
from labform.engine.recovery import UnresolvedCreate
from labform.engine.state import State, open_backend
from labform.engine.state.recorder import StateRecorder

# memory_bucket has no natural key: nothing can look a bucket up after a lost answer.
BUCKETS = """
resources:
  memory_bucket.logs:
    name: logs
  memory_thing.web:
    name: web
"""
LOGS = Address.parse("memory_bucket.logs")


def _lost(lab) -> runner.ApplyOutcome:
    """The bucket's create acts, then its answer is lost."""
    lab.write(BUCKETS)
    lab.store.lose_answer("logs")
    return lab.apply()


def test_a_lost_answer_without_a_look_up_is_held_not_sent_again(lab):
    """The failed change names both resolve commands; the intent stays in the snapshot, marked, with when and why."""
    outcome = _lost(lab)
    ((address, message),) = outcome.result.failed
    assert address == LOGS and "it may have been created, so it is not sent again" in message
    assert "labform state resolve memory_bucket.logs --id ID" in message
    assert "labform state resolve memory_bucket.logs --not-created" in message
    held = lab.state()["intents"]["memory_bucket.logs"]["unresolved"]
    assert "answer lost after acting" in held["why"] and "no natural key" in held["why"]
    assert held["time"] >= lab.state()["intents"]["memory_bucket.logs"]["time"]
    assert lab.store.names("memory_bucket") == ["logs"]


@pytest.mark.parametrize("destroy", [False, True])
def test_every_apply_and_destroy_refuses_before_any_change(lab, destroy):
    """Neither a second apply nor a destroy sends anything while the outcome is unknown."""
    _lost(lab)
    lab.store.forget_calls()
    with pytest.raises(UnresolvedCreate) as refused:
        lab.apply(destroy=destroy)
    assert "? memory_bucket.logs: outcome unknown since " in str(refused.value)
    assert "labform state resolve memory_bucket.logs --id ID" in str(refused.value)
    assert lab.store.writes() == [] and lab.store.names() == ["logs", "web"]


def test_the_plan_shows_the_unknown_outcome_in_text_and_json(lab):
    _lost(lab)
    result = lab.plan()
    text = result.text()
    assert "? memory_bucket.logs: outcome unknown since 20" in text
    assert "labform state resolve memory_bucket.logs --not-created" in text
    assert result.plan.has_changes  # what it needs is action: --detailed-exitcode says 2
    (entry,) = json.loads(result.json())["unresolved"]
    assert entry["address"] == "memory_bucket.logs" and entry["since"].endswith("Z")
    assert entry["resolve"] == {
        "created": "labform state resolve memory_bucket.logs --id ID",
        "not_created": "labform state resolve memory_bucket.logs --not-created",
    }
    assert "answer lost" in entry["why"]
    summary = ci.plan_markdown("plan", result.plan, result.drift)  # the CI step summary says it too
    assert "Outcome unknown" in summary and "`labform state resolve memory_bucket.logs --id ID`" in summary


def test_resolved_with_its_id_the_object_is_recorded_and_nothing_is_created(lab):
    _lost(lab)
    made = lab.store.named("logs")["id"]
    item = runner.state_resolve(lab.workspace(), LOGS, made)
    assert item is not None and item.id == made
    assert lab.state()["intents"] == {} and lab.state_id("memory_bucket.logs") == made
    lab.store.forget_calls()
    lab.apply_ok()
    assert lab.store.ops("create") == [] and lab.store.names("memory_bucket") == ["logs"]
    assert lab.plan().plan.has_changes is False


def test_resolved_as_not_created_the_next_apply_creates_it_once(lab):
    _lost(lab)
    lab.store.remove("logs")  # the user checked: it was not made after all
    assert runner.state_resolve(lab.workspace(), LOGS, None) is None
    lab.store.forget_calls()
    lab.apply_ok()
    assert lab.store.ops("create") == [("create", "logs")]
    assert lab.store.names("memory_bucket") == ["logs"]


def test_resolving_an_id_the_cloud_does_not_have_changes_nothing(lab):
    _lost(lab)
    with pytest.raises(runner.LabformError, match="the cloud has no memory_bucket with id bucket-999"):
        runner.state_resolve(lab.workspace(), LOGS, "bucket-999")
    assert lab.state()["intents"]["memory_bucket.logs"]["unresolved"]


def test_resolving_an_address_with_no_unknown_create_is_an_error(lab):
    lab.write(BUCKETS)
    lab.apply_ok()
    with pytest.raises(runner.StateError, match="no create whose outcome is unknown .*in state"):
        runner.state_resolve(lab.workspace(), LOGS, None)


def test_an_intent_a_kill_left_without_a_look_up_becomes_unresolved_not_resent(lab):
    """Before, the next plan forgot such an intent and the apply created a twin; now it is held."""
    lab.write(BUCKETS)
    backend = open_backend(str(lab.state_path))
    StateRecorder(backend.read(), backend).intend(LOGS, "create", {"name": "logs"})
    lab.store.add("memory_bucket", name="logs")  # what the killed apply's create made
    plan = lab.plan()
    assert [str(u.address) for u in plan.plan.unresolved] == ["memory_bucket.logs"]
    assert "an apply stopped after sending the create" in plan.plan.unresolved[0].why
    with pytest.raises(UnresolvedCreate):
        lab.apply()
    assert lab.store.names("memory_bucket") == ["logs"]


def test_an_unresolved_create_a_later_look_up_finds_is_adopted_by_the_next_plan(lab):
    """Where the natural key can find it, the plan resolves it by itself: adopted, not created."""
    lab.write(BUCKETS)
    backend = open_backend(str(lab.state_path))
    recorder = StateRecorder(backend.read(), backend)
    web = Address.parse("memory_thing.web")
    recorder.intend(web, "create", {"name": "web"})
    recorder.unresolved(web, "the look-up failed")
    made = lab.store.add("memory_thing", name="web")
    plan = lab.plan()
    assert (
        plan.plan.unresolved == [] and open_backend(str(lab.state_path)).read().resources["memory_thing.web"].id == made
    )
    lab.apply_ok()
    assert ("create", "web") not in lab.store.ops("create")


def test_the_mark_survives_compaction_and_old_state_loads():
    """A snapshot keeps the mark; state written before it existed loads with none."""
    state = State(
        serial=3, lineage="l", intents={"memory_bucket.logs": {"action": "create", "desired": {}, "time": 1.0}}
    )
    assert State.from_json(state.to_json()).unresolved() == {}
    state.intents["memory_bucket.logs"]["unresolved"] = {"time": 2.0, "why": "lost"}
    assert State.from_json(state.to_json()).unresolved()["memory_bucket.logs"]["unresolved"]["why"] == "lost"
    old = json.dumps({"serial": 1, "lineage": "l", "resources": {}, "intents": {"a.b": {"time": 1.0}}})
    assert State.from_json(old).unresolved() == {}
