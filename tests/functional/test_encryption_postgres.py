"""Encryption at rest with state in PostgreSQL: the row holds sealed documents, the high-water mark is a row,
and a row rolled back or swapped from another workspace is refused (the server on 127.0.0.1:5432)."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg.types.json import Jsonb

from labform.engine.encryption.envelope import MARKER
from tests.fixtures.postgres import SERVER
from tests.functional.test_encryption import encryption, plan_text, refused


@pytest.fixture(autouse=True)
def passphrases(monkeypatch):
    monkeypatch.setenv("PASS_MAIN", "correct horse battery staple")
    monkeypatch.delenv("LABFORM_ENCRYPTION", raising=False)


@pytest.fixture
def encrypted_url(state_url):
    """A workspace of its own; its journal rows and high-water mark are removed afterwards too."""
    yield state_url
    workspace = state_url.rsplit("=", 1)[1]
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute("DELETE FROM labform_journal WHERE workspace = %s", (workspace,))
        conn.execute("DELETE FROM labform_high_water WHERE workspace = %s", (workspace,))


def row(url: str) -> tuple[int, dict, dict]:
    workspace = url.rsplit("=", 1)[1]
    with psycopg.connect(SERVER) as conn:
        serial, document = conn.execute(
            "SELECT serial, document FROM labform_state WHERE workspace = %s", (workspace,)
        ).fetchone()
        (mark,) = conn.execute("SELECT record FROM labform_high_water WHERE workspace = %s", (workspace,)).fetchone()
    return serial, document, mark


def put_row(url: str, serial: int, document: dict) -> None:
    """What someone with write access to the table does: put another document in the row."""
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(
            "UPDATE labform_state SET serial = %s, document = %s WHERE workspace = %s",
            (serial, Jsonb(document), url.rsplit("=", 1)[1]),
        )


def test_round_trip_sealed_in_the_row(bitbar, workdir, encrypted_url):
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply("--state", encrypted_url).exit_code == 0
    serial, document, mark = row(encrypted_url)
    assert MARKER in document and document["key_provider"] == "pbkdf2.main"
    assert "Checkout" not in json.dumps(document)
    assert mark["context"]["serial"] == serial
    assert workdir.plan("--state", encrypted_url, "--detailed-exitcode").exit_code == 0
    listed = workdir.run("state", "list", str(workdir.path), "--state", encrypted_url)
    assert listed.stdout == "bitbar_project.checkout\n"


def test_rolled_back_row_is_refused(bitbar, workdir, encrypted_url):
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply("--state", encrypted_url).exit_code == 0
    old_serial, old_document, _ = row(encrypted_url)
    workdir.write(plan_text("Checkout flow 2", encryption("main")))
    assert workdir.apply("--state", encrypted_url).exit_code == 0
    new_serial, _, _ = row(encrypted_url)
    put_row(encrypted_url, old_serial, old_document)
    refused(
        workdir.plan("--state", encrypted_url),
        f"was rolled back: its serial {old_serial} is older than serial {new_serial}",
    )
    accepted = workdir.run("state", "rekey", "-force-rollback", str(workdir.path), "--state", encrypted_url)
    assert accepted.exit_code == 0, accepted.output
    _, _, mark = row(encrypted_url)
    assert mark["context"]["serial"] == old_serial + 1  # the rollback record, compacted into the snapshot


def test_row_from_another_workspace_is_refused(bitbar, workdir, encrypted_url, tmp_path):
    other_url = encrypted_url + "-other"
    try:
        workdir.write(plan_text(block=encryption("main")))
        assert workdir.apply("--state", encrypted_url).exit_code == 0
        for name in ("Other 1", "Other 2", "Other 3"):
            workdir.write(plan_text(name, encryption("main")))
            assert workdir.apply("--state", other_url).exit_code == 0
        serial, document, _ = row(other_url)
        put_row(encrypted_url, serial, document)
        refused(workdir.plan("--state", encrypted_url), "is of another lineage", "it was swapped")
    finally:
        workspace = other_url.rsplit("=", 1)[1]
        with psycopg.connect(SERVER, autocommit=True) as conn:
            for table in ("labform_state", "labform_journal", "labform_high_water", "labform_locks"):
                conn.execute(f"DELETE FROM {table} WHERE workspace = %s", (workspace,))
