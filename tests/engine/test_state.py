"""State: serial and lineage, the local JSON backend and its lock, secrets kept out, state commands."""

from __future__ import annotations

import json
import os
import stat

import pytest

from labform.engine import runner
from labform.engine.addresses import Address
from labform.engine.errors import ConfigError, LabformError, StateError, StateLockedError
from labform.engine.state import LocalStateBackend, ResourceState, State, open_backend

PLAN = """
resources:
  memory_thing.web:
    name: web
    size: 1
  memory_thing.app:
    name: app
    parent: ${memory_thing.web.id}
"""


def test_first_apply_starts_a_lineage_and_a_serial(lab):
    """The first apply writes state with a new lineage and a positive serial, one entry per object."""
    lab.write(PLAN)
    lab.apply_ok()
    state = lab.state()
    assert state["serial"] >= 1
    assert len(state["lineage"]) == 36  # a uuid4
    assert set(state["resources"]) == {"memory_thing.web", "memory_thing.app"}
    app = state["resources"]["memory_thing.app"]
    assert (app["type"], app["id"]) == ("memory_thing", lab.store.named("app")["id"])
    assert app["dependencies"] == ["memory_thing.web"]
    assert app["attributes"]["parent"] == lab.store.named("web")["id"]


def test_apply_that_changes_something_increments_the_serial_and_keeps_the_lineage(lab):
    """Each apply that changes an object moves the serial forward under the same lineage."""
    lab.write(PLAN)
    lab.apply_ok()
    first = lab.state()

    lab.write(PLAN.replace("size: 1", "size: 2"))
    lab.apply_ok()
    second = lab.state()
    assert second["lineage"] == first["lineage"]
    assert second["serial"] > first["serial"]
    assert second["resources"]["memory_thing.web"]["attributes"]["size"] == 2


def test_no_op_apply_keeps_the_serial_and_the_file(lab):
    """Applying a plan with no changes leaves the state file exactly as it was."""
    lab.write(PLAN)
    lab.apply_ok()
    before = lab.state_path.read_bytes()

    outcome = lab.apply_ok()
    assert outcome.plan.has_changes is False
    assert lab.state_path.read_bytes() == before


def test_drift_repaired_by_apply_is_recorded_in_state(lab):
    """After an apply repairs drift, state holds the repaired values and a newer serial."""
    lab.write(PLAN)
    lab.apply_ok()
    serial = lab.state()["serial"]
    lab.store.edit("web", size=9)

    lab.apply_ok()
    assert lab.state()["resources"]["memory_thing.web"]["attributes"]["size"] == 1
    assert lab.state()["serial"] > serial


def test_backend_write_bumps_the_serial_once_and_round_trips(tmp_path):
    """write() adds one to the serial, sets a lineage once, and read() gives back the same document."""
    backend = LocalStateBackend(tmp_path / "s.json")
    assert backend.read() == State()

    state = State(
        resources={
            "memory_thing.a": ResourceState("memory_thing", "t-1", {"id": "t-1", "name": "a"}, ["memory_thing.b"])
        }
    )
    backend.write(state)
    lineage = state.lineage
    backend.write(state)
    assert (state.serial, state.lineage) == (2, lineage)
    assert backend.read() == state
    assert State.from_json(state.to_json()) == state


def test_state_file_is_owner_only_and_written_without_leftovers(tmp_path):
    """The state file has mode 0600 and the atomic write leaves no temporary file behind."""
    backend = LocalStateBackend(tmp_path / "s.json")
    backend.write(State())
    backend.write(State())
    assert stat.S_IMODE(os.stat(tmp_path / "s.json").st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_unreadable_state_file_is_a_state_error(tmp_path):
    """A state file that is not labform state is refused with its path, not a traceback."""
    (tmp_path / "s.json").write_text('{"hello": 1}')
    with pytest.raises(StateError, match=r"s\.json is not valid labform state"):
        LocalStateBackend(tmp_path / "s.json").read()


def test_second_lock_is_refused_naming_the_live_holder_until_released(tmp_path):
    """While one live holder has the lock another is refused with pid and operation, and force_unlock
    refuses too (stopping that process frees the lock); once released, the second takes it."""
    first, second = LocalStateBackend(tmp_path / "s.json"), LocalStateBackend(tmp_path / "s.json")
    with first.locked("apply"):
        with pytest.raises(StateLockedError) as error, second.locked("plan"):
            pass
        assert f"held by pid {os.getpid()}" in str(error.value)
        assert "for 'apply'" in str(error.value)
        with pytest.raises(StateLockedError, match="live process"):
            second.force_unlock()
    assert second.force_unlock() is None
    with second.locked("plan"):
        pass


def test_apply_while_state_is_locked_is_refused_before_any_call(lab):
    """A second apply on locked state fails at once and the cloud sees nothing."""
    lab.write(PLAN)
    with open_backend(str(lab.state_path)).locked("apply"), pytest.raises(StateLockedError, match="is locked"):
        lab.apply()
    assert lab.store.calls == []
    assert not lab.state_path.exists()


SECRET = "pw-never-in-clear-51"


def test_sensitive_argument_never_appears_in_state_or_plan_output(lab):
    """A sensitive argument is a sha256 fingerprint in state, and (sensitive) in plan text and JSON."""
    lab.write(f"""
        resources:
          memory_thing.web: {{name: web, secret: {SECRET}}}
    """)
    created = lab.plan()
    assert SECRET not in created.text() and SECRET not in created.json()
    assert "      + secret   = (sensitive)" in created.text()
    lab.apply_ok()

    assert lab.store.named("web")["secret"] == SECRET  # the cloud itself has it
    text = lab.state_path.read_text()
    assert SECRET not in text
    assert lab.state()["resources"]["memory_thing.web"]["attributes"]["secret"].startswith("scrypt:")
    assert lab.plan().plan.has_changes is False

    lab.write(f"""
        resources:
          memory_thing.web: {{name: web, secret: {SECRET}-v2}}
    """)
    changed = lab.plan()
    assert changed.plan.change_for(Address.parse("memory_thing.web")).action.value == "update"
    assert "      ~ secret = (sensitive) -> (sensitive)" in changed.text()
    assert SECRET not in changed.text() and SECRET not in changed.json()
    lab.apply_ok()
    assert lab.store.named("web")["secret"] == f"{SECRET}-v2"
    assert SECRET not in lab.state_path.read_text()


def test_import_adopts_an_existing_object_into_state(lab):
    """import records an object made outside labform under its address; the next plan is a no-op."""
    remote_id = lab.store.add("memory_thing", name="web", size=1)
    lab.write("""
        resources:
          memory_thing.web: {name: web, size: 1}
    """)
    item = runner.import_resource(lab.workspace(), Address.parse("memory_thing.web"), remote_id)
    assert (item.id, item.attributes["size"]) == (remote_id, 1)
    assert lab.state_id("memory_thing.web") == remote_id
    assert lab.plan().plan.has_changes is False


def test_import_refuses_an_address_not_in_the_plan_or_an_unknown_id(lab):
    """import needs the block first and an object that exists."""
    lab.write("""
        resources:
          memory_thing.web: {name: web}
    """)
    with pytest.raises(ConfigError, match="'memory_thing.nope' is not in the plan"):
        runner.import_resource(lab.workspace(), Address.parse("memory_thing.nope"), "thing-1")
    with pytest.raises(LabformError, match="no memory_thing with id thing-404"):
        runner.import_resource(lab.workspace(), Address.parse("memory_thing.web"), "thing-404")
    assert not lab.state_path.exists() or lab.state()["resources"] == {}


def test_state_rm_forgets_without_deleting_and_state_mv_renames(lab):
    """state rm drops an address from state only (the cloud keeps the object); state mv renames an address."""
    lab.write(PLAN)
    lab.apply_ok()
    ws = lab.workspace()

    assert runner.state_rm(ws, [Address.parse("memory_thing.app")]) == ["memory_thing.app"]
    assert set(lab.state()["resources"]) == {"memory_thing.web"}
    assert lab.store.names() == ["app", "web"]

    runner.state_mv(ws, Address.parse("memory_thing.web"), Address.parse("memory_thing.site"))
    assert set(lab.state()["resources"]) == {"memory_thing.site"}
    with pytest.raises(StateError, match="memory_thing.web is not in state"):
        runner.state_rm(ws, [Address.parse("memory_thing.web")])
    with pytest.raises(StateError, match="different type"):
        runner.state_mv(ws, Address.parse("memory_thing.site"), Address.parse("memory_bucket.site"))


def test_state_keeps_the_outputs_of_the_last_apply(lab):
    """The outputs apply resolved are in state for 'labform output'."""
    lab.write(PLAN + "outputs:\n  app_parent: ${memory_thing.app.parent}\n")
    lab.apply_ok()
    assert runner.read_state(lab.workspace()).outputs == {"app_parent": lab.store.named("web")["id"]}
    assert json.loads(lab.state_path.read_text())["outputs"] == {"app_parent": lab.store.named("web")["id"]}


def test_a_secret_is_kept_as_a_salted_slow_hash_and_an_unchanged_one_plans_no_change(lab):
    """State holds scrypt with a per-value salt (two objects with one password differ); re-planning
    the same secret is no change, a new one is an update, and state written with the older sha256
    fingerprint still matches."""
    import hashlib

    lab.write("""
resources:
  memory_thing.a:
    name: a
    secret: hunter2
  memory_thing.b:
    name: b
    secret: hunter2
""")
    lab.apply_ok()
    stored = {name: lab.state()["resources"][f"memory_thing.{name}"]["attributes"]["secret"] for name in "ab"}
    assert all(value.startswith("scrypt:") for value in stored.values()) and stored["a"] != stored["b"]
    assert "hunter2" not in lab.state_path.read_text()
    assert lab.plan().plan.has_changes is False

    document = lab.state()
    document["resources"]["memory_thing.a"]["attributes"]["secret"] = "sha256:" + hashlib.sha256(b"hunter2").hexdigest()
    lab.state_path.write_text(json.dumps(document))
    assert lab.plan().plan.has_changes is False

    lab.write("""
resources:
  memory_thing.a:
    name: a
    secret: correct-horse
  memory_thing.b:
    name: b
    secret: hunter2
""")
    assert [str(c.address) for c in lab.plan().plan.changes if c.action.value == "update"] == ["memory_thing.a"]
