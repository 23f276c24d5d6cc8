"""Creates whose answer was lost, inside one apply or across a killed one, are found by their
natural key and taken over once — never created twice."""

from __future__ import annotations

import pytest

from labform.engine.addresses import Address
from labform.engine.errors import LabformError
from labform.engine.recovery import CREATE_ATTEMPTS
from labform.engine.state import open_backend
from labform.engine.state.journal import intent
from labform.engine.state.recorder import StateRecorder

TWO = """
resources:
  memory_thing.web:
    name: web
  memory_thing.db:
    name: db
"""


def test_a_create_whose_answer_was_lost_is_found_and_not_sent_again(lab):
    """The cloud made the object but the answer was lost (a 500 after acting): the apply looks it up by name and adopts it."""
    lab.write(TWO)
    lab.store.lose_answer("web")
    outcome = lab.apply_ok()
    assert lab.store.names() == ["db", "web"]
    assert sorted(lab.store.ops("create")) == [("create", "db"), ("create", "web")]
    assert outcome.result.recovered == [Address.parse("memory_thing.web")]
    assert lab.state()["resources"]["memory_thing.web"]["id"] == lab.store.named("web")["id"]
    assert lab.plan().plan.has_changes is False


def test_a_create_dropped_before_it_acted_is_sent_again_once(lab):
    """A connection dropped before the cloud acted: nothing has the name, so the create is sent again, and made once."""
    lab.write(TWO)
    lab.store.drop_request("web")
    lab.apply_ok()
    assert [op for op in lab.store.ops("create") if op[1] == "web"] == [("create", "web"), ("create", "web")]
    assert lab.store.names() == ["db", "web"]


def test_a_create_that_keeps_failing_ambiguously_gives_up_naming_the_attempts(lab):
    """After CREATE_ATTEMPTS ambiguous failures with nothing created, the change fails saying so; the state holds no intent."""
    lab.write(TWO)
    lab.store.drop_request("web", times=CREATE_ATTEMPTS)
    outcome = lab.apply()
    ((address, message),) = outcome.result.failed
    assert str(address) == "memory_thing.web"
    assert f"sent {CREATE_ATTEMPTS} times, and the cloud shows nothing it made" in message
    assert lab.store.names() == ["db"]


def test_an_intent_left_by_a_killed_apply_is_recovered_before_planning(lab):
    """A kill between the create and its result leaves an intent: the next plan finds the object and says so; apply creates nothing."""
    lab.write(TWO)
    backend = open_backend(str(lab.state_path))
    state = backend.read()
    StateRecorder(state, backend).intend(Address.parse("memory_thing.web"), "create", {"name": "web"})
    lab.store.add("memory_thing", name="web")  # what the killed apply's create made

    plan = lab.plan()
    assert any("recovered from an interrupted apply" in n.message for n in plan.plan.notices)
    assert [str(c.address) for c in plan.plan.changes if c.action.value == "create"] == ["memory_thing.db"]
    lab.apply_ok()
    assert lab.store.names() == ["db", "web"]
    assert open_backend(str(lab.state_path)).read().intents == {}


def test_an_intent_whose_object_never_appeared_is_planned_as_a_create(lab):
    """The kill came before the request went out: nothing to recover, the object is created once."""
    lab.write(TWO)
    backend = open_backend(str(lab.state_path))
    StateRecorder(backend.read(), backend).intend(Address.parse("memory_thing.web"), "create", {"name": "web"})
    lab.apply_ok()
    assert lab.store.names() == ["db", "web"]


def test_two_candidates_stop_the_plan_with_an_import_line_for_each(lab):
    """Two objects could be what the killed create made: labform guesses neither and lists both import commands."""
    lab.write(TWO)
    backend = open_backend(str(lab.state_path))
    StateRecorder(backend.read(), backend).intend(Address.parse("memory_thing.web"), "create", {"name": "web"})
    first = lab.store.add("memory_thing", name="web")
    second = lab.store.add("memory_thing", name="web")
    with pytest.raises(LabformError) as error:
        lab.plan()
    assert f"labform import memory_thing.web {first}" in str(error.value)
    assert f"labform import memory_thing.web {second}" in str(error.value)
    assert lab.store.ops("create") == []


def test_a_torn_last_journal_line_is_ignored_and_the_rest_replayed(lab):
    """A kill in the middle of writing a record leaves half a line: it never counted, everything before it loads."""
    lab.write(TWO)
    backend = open_backend(str(lab.state_path))
    state = backend.read()
    recorder = StateRecorder(state, backend)
    recorder.remember(Address.parse("memory_thing.web"), {"id": "thing-9", "name": "web"}, [])
    journal = lab.state_path.with_name(lab.state_path.name + ".journal")
    with journal.open("a") as handle:
        handle.write('{"kind": "result", "address": "memory_thing.db", "ser')
    loaded = open_backend(str(lab.state_path)).read()
    assert list(loaded.resources) == ["memory_thing.web"]
    assert loaded.serial == state.serial


def test_recording_appends_to_the_journal_and_compacts_at_the_end(lab):
    """During an apply each change is one journal record; at the end the snapshot holds them all and the journal is gone."""
    lab.write(TWO)
    lab.apply_ok()
    journal = lab.state_path.with_name(lab.state_path.name + ".journal")
    assert not journal.exists()
    assert sorted(lab.state()["resources"]) == ["memory_thing.db", "memory_thing.web"]
    assert lab.state()["intents"] == {}


def test_a_saved_plan_is_stale_once_the_journal_moved_the_state(lab, tmp_path):
    """A record appended after the plan was saved (another apply's intent) moves the serial, so the saved plan is refused."""
    lab.write(TWO)
    saved = tmp_path / "tfplan"
    lab.plan(out=saved)
    backend = open_backend(str(lab.state_path))
    StateRecorder(backend.read(), backend).intend(Address.parse("memory_thing.web"), "create", {"name": "web"})
    with pytest.raises(LabformError, match="stale"):
        lab.apply(plan_file=saved)


def test_journal_records_carry_the_serial_they_bring_the_state_to():
    """Replaying a record the snapshot already holds changes nothing (a crash between snapshot and journal reset)."""
    from labform.engine.state.journal import replay
    from labform.engine.state.model import State

    state = State(serial=5, lineage="L")
    record = {**intent("memory_thing.web", "create", {"name": "web"}, {"name": "web"}), "serial": 5}
    assert replay(state, [record]).intents == {}
    record["serial"] = 6
    assert "memory_thing.web" in replay(state, [record]).intents and state.serial == 6
