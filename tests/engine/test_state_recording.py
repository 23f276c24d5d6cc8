"""Every change to state goes through the recorder, over the backend's public interface."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from labform.engine import runner
from labform.engine.addresses import Address
from labform.engine.errors import StateError
from labform.engine.state import LocalStateBackend
from tests.engine.test_state import PLAN

ENGINE = Path(__file__).resolve().parents[2] / "engine"
# The recorder changes state; the backends and the journal are what it changes it through.
STATE_WRITERS = {"state/recorder.py", "state/model.py", "state/local.py", "state/postgres.py", "state/journal.py"}
BACKEND_WRITES = {"append", "sync", "compact", "write", "_store", "_journal_append", "_journal_reset"}
MUTATING = {"pop", "clear", "update", "setdefault", "popitem"}


def _state_changes(tree: ast.AST) -> list[str]:
    """Calls that write through a backend, and edits of a state's resources or intents, in one module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = ast.unparse(node.func.value)
            if "backend" in owner and node.func.attr in BACKEND_WRITES:
                found.append(f"{node.lineno}: {ast.unparse(node.func)}()")
            if owner.endswith((".resources", ".intents")) and node.func.attr in MUTATING:
                found.append(f"{node.lineno}: {ast.unparse(node.func)}()")
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else []
        for target in targets:
            if isinstance(target, ast.Subscript) and ast.unparse(target.value).endswith((".resources", ".intents")):
                found.append(f"{node.lineno}: {ast.unparse(target)}")
    return found


def test_only_the_recorder_changes_state():
    """No engine module but the recorder (and the backends it calls) writes a backend or edits state's
    resources: state rm, mv, import and refresh included."""
    offenders = {}
    for path in sorted(ENGINE.rglob("*.py")):
        relative = path.relative_to(ENGINE).as_posix()
        if relative in STATE_WRITERS:
            continue
        found = _state_changes(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[relative] = found
    assert offenders == {}


def test_the_check_sees_a_direct_write():
    """The check above is not blind: the two ways state used to be edited outside the recorder are found."""
    code = "def rm(backend, state, a):\n    state.resources.pop(a)\n    backend.write(state)\n"
    assert _state_changes(ast.parse(code)) == ["2: state.resources.pop()", "3: backend.write()"]


def test_state_mv_is_one_journal_record_and_one_serial(lab):
    """state mv moves the object in one step (never recorded at both addresses) and stores one new serial."""
    lab.write(PLAN)
    lab.apply_ok()
    before = lab.state()
    runner.state_mv(lab.workspace(), Address.parse("memory_thing.web"), Address.parse("memory_thing.site"))
    after = lab.state()
    assert set(after["resources"]) == {"memory_thing.site", "memory_thing.app"}
    assert after["resources"]["memory_thing.site"] == before["resources"]["memory_thing.web"]
    assert after["serial"] == before["serial"] + 1
    assert after["lineage"] == before["lineage"]


def test_a_move_left_in_the_journal_replays_to_the_target_only(lab):
    """A crash after the move record was made durable, before compaction: reading state replays it."""
    lab.write(PLAN)
    lab.apply_ok()
    backend = LocalStateBackend(lab.state_path)
    state = backend.read()
    from labform.engine.state import journal

    backend.append(backend.stamp(state, journal.move("memory_thing.web", "memory_thing.site")))
    backend.sync()
    replayed = LocalStateBackend(lab.state_path).read()
    assert set(replayed.resources) == {"memory_thing.site", "memory_thing.app"}
    assert replayed.serial == state.serial + 1


def test_state_rm_of_several_removes_none_when_one_is_missing(lab):
    """state rm checks every address first: a typo in the second leaves the first in state."""
    lab.write(PLAN)
    lab.apply_ok()
    before = json.loads(lab.state_path.read_text())
    with pytest.raises(StateError, match="memory_thing.nope is not in state"):
        runner.state_rm(lab.workspace(), [Address.parse("memory_thing.app"), Address.parse("memory_thing.nope")])
    assert json.loads(lab.state_path.read_text()) == before


def test_state_rm_forgets_through_the_journal_and_bumps_the_serial(lab):
    """state rm of two addresses: both gone, the serial moved on, the journal compacted away."""
    lab.write(PLAN)
    lab.apply_ok()
    serial = lab.state()["serial"]
    removed = runner.state_rm(lab.workspace(), [Address.parse("memory_thing.app"), Address.parse("memory_thing.web")])
    assert removed == ["memory_thing.app", "memory_thing.web"]
    assert lab.state()["resources"] == {}
    assert lab.state()["serial"] > serial
    assert LocalStateBackend(lab.state_path).read().resources == {}
