"""A full disk: every file labform writes fails with an error naming it, and nothing is left half-written.

The disk is real: a 64 KiB tmpfs mounted for the test (root may mount one;
elsewhere those tests skip saying so) and filled to the last page, or to all
but a few. ``/dev/full``, which answers every write with ENOSPC, stands in for
the journal wherever a mount is refused.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from labform.engine.errors import StateError
from labform.engine.sandbox import sandbox_dir
from labform.engine.state import ResourceState, State
from labform.engine.state.journal import FileJournal
from labform.engine.state.local import LocalStateBackend
from labform.engine.state.locks import LockFile, lock_holder
from tests.fixtures.absent import missing

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "plans" / "bitbar-quickstart"
PAGE = os.sysconf("SC_PAGE_SIZE")
FULL = "no space left on device writing {}: free space and run again; the state is unchanged"


class Disk:
    """A tiny tmpfs; ``fill`` takes all its space but ``leave`` pages."""

    def __init__(self, path: Path):
        self.path = path
        self.filler = path / "filler"

    def fill(self, leave: int = 0) -> None:
        with self.filler.open("ab", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * PAGE)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        size = self.filler.stat().st_size
        os.truncate(self.filler, max(0, size - size % PAGE - leave * PAGE))

    def free(self) -> None:
        self.filler.unlink()

    def others(self) -> list[str]:
        """What is on the disk besides the filler (a temp file left behind would show here)."""
        return sorted(p.name for p in self.path.iterdir() if p != self.filler)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode:
        missing(f"cannot mount a tmpfs to fill ({mounted.stderr.strip() or mounted.returncode}); needs root")
    try:
        yield Disk(mount_point)
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def _state(serial: int, name: str) -> State:
    state = State(serial=serial, lineage="lineage-1")
    state.resources["memory_thing.web"] = ResourceState(type="memory_thing", id="1", attributes={"name": name})
    return state


def test_journal_append_on_a_full_device_names_the_file():
    """/dev/full refuses every byte: the append is a StateError naming it and what to do."""
    journal = FileJournal(Path("/dev/full"))
    with pytest.raises(StateError) as raised:
        journal.write({"kind": "forget", "address": "memory_thing.web", "serial": 1})
    assert str(raised.value) == FULL.format("/dev/full")


def test_snapshot_on_a_full_disk_keeps_the_old_one(disk: Disk):
    """The new snapshot does not fit: the old one is intact and no temp file is left."""
    path = disk.path / "labform.state.json"
    backend = LocalStateBackend(path)
    backend.write(_state(1, "old"))
    before = path.read_bytes()
    disk.fill()
    with pytest.raises(StateError) as raised:
        backend.write(_state(2, "x" * 3 * PAGE))
    assert str(raised.value) == FULL.format(path)
    assert path.read_bytes() == before
    assert disk.others() == ["labform.state.json"]


def test_journal_append_that_does_not_fit_leaves_no_torn_line(disk: Disk):
    """Half a record fits: it is cut off again, so the record written once space is freed follows a whole line."""
    journal = FileJournal(disk.path / "labform.state.json.journal")
    disk.fill(leave=1)
    journal.write({"kind": "forget", "address": "a", "serial": 1})
    with pytest.raises(StateError) as raised:
        journal.write({"kind": "forget", "address": "b" * 2 * PAGE, "serial": 2})
    assert str(raised.value) == FULL.format(journal.path)
    assert [r["serial"] for r in journal.read()] == [1]
    disk.free()
    journal.write({"kind": "forget", "address": "c", "serial": 3})
    assert [r["serial"] for r in journal.read()] == [1, 3]
    journal.reset()  # closes it, so the disk unmounts


def test_a_journal_left_torn_is_cut_before_the_next_append(tmp_path: Path):
    """A process killed mid-line left a torn tail: the next process's first record does not follow it."""
    path = tmp_path / "labform.state.json.journal"
    path.write_text('{"address": "a", "kind": "forget", "serial": 1}\n{"address": "b", "ki')
    journal = FileJournal(path)
    journal.write({"kind": "forget", "address": "c", "serial": 3})
    assert [r["serial"] for r in journal.read()] == [1, 3]


def test_lock_on_a_full_disk_names_the_file_and_leaves_none(disk: Disk):
    """The holder does not fit in the lock file: a StateError naming it, and no empty lock left behind."""
    lock = LockFile(disk.path / "labform.state.json.lock")
    disk.fill()
    with pytest.raises(StateError) as raised:
        lock.try_lock(lock_holder("apply"))
    assert str(raised.value) == FULL.format(lock.path)
    assert disk.others() == []


def _labform(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m labform.engine`` with this checkout first on the path and no cloud settings from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BITBAR_", "LABFORM_DEBUG"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "labform.engine", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _assert_named_error(run: subprocess.CompletedProcess[str], path: Path, prefix: str) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{prefix}{FULL.format(path)}" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr


@pytest.mark.parametrize(
    ("leave", "failing", "prefix"),
    [(0, ".lock", "Error: "), (1, ".journal", "bitbar_project_config.checkout: ")],
)
def test_apply_with_state_on_a_full_disk(disk: Disk, tmp_path: Path, leave: int, failing: str, prefix: str):
    """apply --sandbox with its state on the full disk: exit 1 naming the file, the state as before.

    With no page free the lock does not fit: 'Error:'. With one, the lock fits and the
    journal does not: the change that could not record its intent fails, named."""
    state = disk.path / "labform.state.json"
    (tmp_path / "sandbox-data").mkdir()
    sandbox_dir(state).symlink_to(tmp_path / "sandbox-data")  # the emulators' data is not what is tested
    first = _labform("apply", str(QUICKSTART), "--sandbox", "--state", str(state), "--auto-approve", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    before = state.read_bytes()
    disk.fill(leave)
    again = _labform(
        "apply", str(QUICKSTART), "--sandbox", "--state", str(state), "--var", "language=de_DE", "--auto-approve",
        cwd=tmp_path,
    )  # fmt: skip
    _assert_named_error(again, Path(str(state) + failing), prefix)
    assert state.read_bytes() == before
    assert disk.others() == sorted([state.name, sandbox_dir(state).name, *([state.name + ".journal"] * leave)])


def test_saved_plan_on_a_full_disk_keeps_the_older_one(disk: Disk, tmp_path: Path):
    """plan --out onto the full disk: exit 1 naming the file; the plan saved there before is intact."""
    out = disk.path / "checkout.plan"
    out.write_text("an older plan")
    disk.fill()
    state = tmp_path / "labform.state.json"
    run = _labform("plan", str(QUICKSTART), "--sandbox", "--state", str(state), "--out", str(out), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"Error: no space left on device writing {out}: free space and run again; no plan was saved" in run.stderr
    assert "Traceback" not in run.stderr
    assert out.read_text() == "an older plan"
    assert disk.others() == [out.name]
