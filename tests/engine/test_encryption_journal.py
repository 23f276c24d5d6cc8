"""The encrypted intent journal: each record sealed and chained; a torn last line tolerated as before, any
other gap, reordering, alteration or truncation refused (read back through the CLI's state commands)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from labform.engine.addresses import Address
from labform.engine.cli import main
from labform.engine.encryption.envelope import MARKER
from labform.engine.state import open_backend
from labform.engine.state.recorder import StateRecorder

CONFIG = {
    "key_provider": {"pbkdf2": {"main": {"passphrase": "${env.JOURNAL_PASS}", "iterations": 1000}}},
    "method": {"aes_gcm": {"main": {"keys": "key_provider.pbkdf2.main"}}},
    "state": {"method": "method.aes_gcm.main"},
}


@pytest.fixture
def journalled(tmp_path, monkeypatch):
    """An encrypted state with three results in its journal (a command killed before compacting)."""
    monkeypatch.setenv("JOURNAL_PASS", "journal passphrase 1234")
    monkeypatch.setenv("LABFORM_ENCRYPTION", json.dumps(CONFIG))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "labform.state.json"
    backend = open_backend(str(path))
    recorder = StateRecorder(backend.read(), backend)
    recorder.finish()  # an encrypted snapshot at serial 1
    for name in ("a", "b", "c"):
        recorder.remember(Address("bitbar_project", name), {"id": name, "name": f"Project {name}"}, [])
    return path


def state_list(path):
    return CliRunner().invoke(main, ["state", "list", "--state", str(path)])


def journal(path):
    return path.with_name(path.name + ".journal")


def test_records_are_sealed_and_read_back(journalled):
    lines = journal(journalled).read_bytes().splitlines()
    assert len(lines) == 3 and all(MARKER in json.loads(line) for line in lines)
    assert b"Project" not in journal(journalled).read_bytes()
    listed = state_list(journalled)
    assert listed.exit_code == 0 and listed.stdout.split() == [f"bitbar_project.{n}" for n in "abc"]


def test_a_torn_final_record_is_tolerated(journalled):
    with journal(journalled).open("ab") as handle:
        handle.write(b'{"labform_encrypted": 1, "cipher')  # killed mid-write: no newline
    assert state_list(journalled).stdout.split() == [f"bitbar_project.{n}" for n in "abc"]


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda lines: [lines[0], lines[2]], "record 2 is tampered: it does not follow the record before it"),
        (lambda lines: [lines[1], lines[0], lines[2]], "record 1 is tampered: it does not follow"),
        (lambda lines: [lines[0], lines[1][:60] + b"x" + lines[1][61:], lines[2]], "record 2"),
        (
            lambda lines: [*lines, json.dumps({"kind": "forget", "address": "bitbar_project.a", "serial": 9}).encode()],
            "an unencrypted record follows encrypted ones",
        ),
        (lambda lines: lines[:2], "was rolled back: its serial 3 is older than serial 4"),
        (lambda lines: [], "was rolled back: its serial 1 is older than serial 4"),
    ],
    ids=["gap", "reordered", "altered", "plain-appended", "last-record-cut", "journal-emptied"],
)
def test_any_other_damage_is_refused(journalled, damage, said):
    lines = journal(journalled).read_bytes().splitlines()
    journal(journalled).write_bytes(b"".join(line + b"\n" for line in damage(lines)))
    listed = state_list(journalled)
    assert listed.exit_code == 1 and "Traceback" not in listed.output
    assert said in listed.stderr, listed.stderr


def test_plaintext_records_in_place_of_the_journal_are_refused(journalled):
    """The state was written encrypted: a plaintext journal (records put in by hand) is a replacement."""
    forged = {"kind": "forget", "address": "bitbar_project.a", "serial": 9, "lineage": "x", "time": 0}
    journal(journalled).write_text(json.dumps(forged) + "\n")
    listed = state_list(journalled)
    assert listed.exit_code == 1
    assert (
        "the journal of state" in listed.stderr
        and "is not encrypted, but this backend wrote it encrypted" in listed.stderr
    )


def test_a_command_appending_after_a_crash_continues_the_chain(journalled):
    backend = open_backend(str(journalled))
    recorder = StateRecorder(backend.read(), backend)
    recorder.forget(Address("bitbar_project", "a"))
    assert len(journal(journalled).read_bytes().splitlines()) == 4
    assert state_list(journalled).stdout.split() == ["bitbar_project.b", "bitbar_project.c"]
