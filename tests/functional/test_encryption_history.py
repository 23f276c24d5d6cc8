"""The history target through the CLI: tests record / flaky / shards and an apply's JUnit, on SQLite and
PostgreSQL, keep no test id, device or commit in clear, and still show names and the same figures
(PBKDF2 at a low count set by the config)."""

from __future__ import annotations

import json
import sqlite3
import sys
import xml.etree.ElementTree as ET

import psycopg
import pytest

from tests.fixtures.databases import throwaway_database
from tests.functional.test_encryption import KEY_PROGRAM, OTHER_PASSPHRASE, PASSPHRASE, refused
from tests.functional.test_run_shards import SECONDS, record_history, write_suite
from tests.functional.test_tests_commands import KYARABEN_PLAN, junit

HISTORY = "labform.state.json.history.sqlite3"
CLEAR = (b"com.app.Login", b"flips", b"Pixel 7", b"abc123")  # a test id, a device, a commit


def encryption(enforced: bool = False, method: str = "main", fallback: str = "") -> str:
    """A history target with pbkdf2 providers main and new (passphrases from PASS_MAIN and PASS_NEW)."""
    also = f", fallback: {{method: method.aes_gcm.{fallback}}}" if fallback else ""
    return (
        "encryption:\n  key_provider:\n    pbkdf2:\n"
        '      main: {passphrase: "${env.PASS_MAIN}", iterations: 1000}\n'
        '      new: {passphrase: "${env.PASS_NEW}", iterations: 1000}\n'
        "  method:\n    aes_gcm:\n      main: {keys: key_provider.pbkdf2.main}\n"
        "      new: {keys: key_provider.pbkdf2.new}\n"
        f"  history: {{method: method.aes_gcm.{method}, enforced: {str(enforced).lower()}{also}}}\n"
    )


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    monkeypatch.setenv("PASS_MAIN", PASSPHRASE)
    monkeypatch.setenv("PASS_NEW", OTHER_PASSPHRASE)
    monkeypatch.delenv("LABFORM_ENCRYPTION", raising=False)
    monkeypatch.delenv("CI", raising=False)


def record(workdir, *where: str, commit: str = "abc123"):
    """A flaky test, a broken one and a passing one on two clouds, on ``commit``, device Pixel 7."""
    first = junit(workdir, "a.xml", {"ok": ("passed", 1), "flips": ("flaky", 2), "red": ("failed", 3)})
    second = junit(workdir, "b.xml", {"ok": ("passed", 3), "flips": ("passed", 2), "red": ("failed", 3)})
    for path, cloud in ((first, "bitbar"), (second, "kyaraben")):
        done = workdir.run("tests", "record", path, "--cloud", cloud, "--commit", commit, "--source", "ci", *where)
        assert done.exit_code == 0, done.output


def flaky(workdir, *where: str) -> dict:
    shown = workdir.run("tests", "flaky", *where, "-json")
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    document.pop("history"), document.pop("since")
    return document


def test_round_trip_shows_the_names_and_the_figures_of_a_plain_history(workdir, tmp_path_factory):
    plain = type(workdir)(tmp_path_factory.mktemp("plain"))
    record(plain, "--plan", str(plain.path))
    workdir.write(encryption())
    record(workdir, "--plan", str(workdir.path))

    assert flaky(workdir, str(workdir.path)) == flaky(plain, str(plain.path))
    shown = workdir.run("tests", "flaky", str(workdir.path)).stdout
    assert "com.app.Login.flips  1/1 commits  66.7%" in shown and "com.app.Login.red" in shown.split("Broken")[1]
    stored = (workdir.path / HISTORY).read_bytes()
    assert b"com.app.Login" in (plain.path / HISTORY).read_bytes()
    assert not [word for word in CLEAR if word in stored]


def test_rows_from_before_the_target_are_counted_with_the_encrypted_ones(workdir):
    record(workdir, "--plan", str(workdir.path), commit="before")
    workdir.write(encryption())
    record(workdir, "--plan", str(workdir.path), commit="after")
    document = flaky(workdir, str(workdir.path))
    assert (document["results"], document["tests"]) == (14, 3)
    assert [(t["test_id"], t["flaky_commits"], t["commits"]) for t in document["flaky"]] == [
        ("com.app.Login.flips", 2, 2)
    ]
    assert [(t["test_id"], t["broken_commits"]) for t in document["broken"]] == [("com.app.Login.red", 2)]


def test_shards_of_a_plan_split_by_the_encrypted_durations(workdir):
    """The plan's packages are known by the recorded tests' names: com.app.Login's 2m, the others unknown."""
    workdir.write(KYARABEN_PLAN + encryption())
    path = junit(workdir, "a.xml", {"a": ("passed", 50), "b": ("passed", 40), "c": ("passed", 30)})
    workdir.run("tests", "record", path, "--cloud", "kyaraben", "--source", "ci", "--plan", str(workdir.path))
    shards = workdir.run("tests", "shards", str(workdir.path), "--shards", "2")
    assert shards.exit_code == 0, shards.output
    assert "No recorded duration for 2 units, counted as 2m00s each: com.app.Cart, com.app.Search" in shards.stdout
    assert "shard 2: expected 2m00s, 1 unit\n  com.app.Login" in shards.stdout, shards.stdout
    assert b"com.app.Login" not in (workdir.path / HISTORY).read_bytes()


def test_a_key_program_is_asked_once_for_a_new_history(workdir, tmp_path):
    """The first recording writes the key row with the key it was given: the program is not asked again for it."""
    calls = tmp_path / "calls"
    program = tmp_path / "key.py"
    program.write_text(f"open({str(calls)!r}, 'a').write('asked\\n')\n" + KEY_PROGRAM)
    workdir.write(
        f"encryption:\n  key_provider:\n    command:\n      vault: {{command: [{sys.executable}, {program}]}}\n"
        "  method:\n    aes_gcm:\n      kms: {keys: key_provider.command.vault}\n"
        "  history: {method: method.aes_gcm.kms}\n"
    )
    path = junit(workdir, "a.xml", {"flips": ("flaky", 2)})
    assert workdir.run("tests", "record", path, "--cloud", "bitbar", "--plan", str(workdir.path)).exit_code == 0
    assert calls.read_text() == "asked\n"
    shown = flaky(workdir, str(workdir.path), "--include-local")
    assert [t["test_id"] for t in shown["flaky"]] == ["com.app.Login.flips"]


def test_a_wrong_passphrase_is_refused_naming_the_key_provider(workdir, monkeypatch):
    workdir.write(encryption())
    record(workdir, "--plan", str(workdir.path))
    monkeypatch.setenv("PASS_MAIN", "another passphrase, long enough")
    wrong = "the key from key provider pbkdf2.main is not the one it was encrypted with"
    refused(workdir.run("tests", "flaky", str(workdir.path)), wrong)
    path = junit(workdir, "c.xml", {"ok": ("passed", 1)})
    refused(workdir.run("tests", "record", path, "--cloud", "bitbar", "--plan", str(workdir.path)), wrong)


def test_a_sealed_name_moved_to_another_tests_rows_is_refused_as_tampered(workdir):
    workdir.write(encryption())
    record(workdir, "--plan", str(workdir.path))
    with sqlite3.connect(workdir.path / HISTORY) as conn:
        conn.execute("DROP TRIGGER labform_test_results_no_update")
        [(test, other)] = conn.execute(
            "SELECT a.test_id, b.sealed FROM labform_test_results a, labform_test_results b "
            "WHERE a.id = 1 AND b.test_id <> a.test_id LIMIT 1"
        ).fetchall()
        conn.execute("UPDATE labform_test_results SET sealed = ? WHERE test_id = ?", (other, test))
    refused(workdir.run("tests", "flaky", str(workdir.path)), "is tampered", "pbkdf2.main")


def test_a_rotation_rewraps_the_history_key_so_the_old_key_is_no_longer_needed(workdir):
    workdir.write(encryption())
    record(workdir, "--plan", str(workdir.path), commit="before")
    workdir.write(encryption(method="new"))
    refused(
        workdir.run("tests", "flaky", str(workdir.path)),
        "was encrypted with key provider pbkdf2.main, which the history encryption does not use (it uses pbkdf2.new)",
    )
    # Opened through the fallback, the data key is wrapped again under the new key at once.
    workdir.write(encryption(method="new", fallback="main"))
    record(workdir, "--plan", str(workdir.path), commit="after")
    keys = sqlite3.connect(workdir.path / "labform.state.json.history.sqlite3")
    assert keys.execute("SELECT key_provider FROM labform_test_history_keys").fetchall() == [("pbkdf2.new",)]
    keys.close()
    # The new key alone now reads every row, those written before the rotation too; the old one alone cannot.
    workdir.write(encryption(method="new"))
    document = flaky(workdir, str(workdir.path))
    assert [(t["test_id"], t["flaky_commits"]) for t in document["flaky"]] == [("com.app.Login.flips", 2)]
    workdir.write(encryption())
    refused(workdir.run("tests", "flaky", str(workdir.path)), "was encrypted with key provider pbkdf2.new")


def _key_providers(workdir, state: str | None) -> list[tuple[str, ...]]:
    query = "SELECT workspace, key_provider FROM labform_test_history_keys"
    if state is None:
        keys = sqlite3.connect(workdir.path / HISTORY)
        try:
            return keys.execute(query).fetchall()
        finally:
            keys.close()
    with psycopg.connect(state.partition("?")[0]) as conn:
        return [tuple(row) for row in conn.execute(query).fetchall()]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_state_rekey_wraps_the_history_key_under_the_new_key_at_once(workdir, postgres_server, backend):
    with throwaway_database(postgres_server) as database:
        state = f"{database}?workspace=mobile-prod" if backend == "postgres" else None
        where = ("--state", state) if state else ()
        workdir.write(encryption())
        record(workdir, "--plan", str(workdir.path), *where)
        workspace = "mobile-prod" if state else "default"
        workdir.write(encryption(method="new", fallback="main"))
        rekeyed = workdir.run("state", "rekey", str(workdir.path), *where)
        assert rekeyed.exit_code == 0, rekeyed.output
        assert "history's data key is wrapped under the current key" in rekeyed.stdout
        assert "key provider pbkdf2.new" in rekeyed.stdout
        assert _key_providers(workdir, state) == [(workspace, "pbkdf2.new")]
        # No command but the rekey ran: the new key alone reads every row, the retired one nothing.
        workdir.write(encryption(method="new"))
        document = flaky(workdir, str(workdir.path), *where)
        assert [(t["test_id"], t["flaky_commits"]) for t in document["flaky"]] == [("com.app.Login.flips", 1)]
        workdir.write(encryption())
        refused(workdir.run("tests", "flaky", str(workdir.path), *where), "was encrypted with key provider pbkdf2.new")
        # A second rekey under the same key changes nothing.
        workdir.write(encryption(method="new"))
        assert workdir.run("state", "rekey", str(workdir.path), *where).exit_code == 0
        assert _key_providers(workdir, state) == [(workspace, "pbkdf2.new")]


def test_state_rekey_makes_no_history_where_there_is_none(workdir, postgres_server):
    workdir.write(encryption(method="new", fallback="main"))
    rekeyed = workdir.run("state", "rekey", str(workdir.path))
    assert rekeyed.exit_code == 0 and "nothing was rewritten" in rekeyed.stdout, rekeyed.output
    assert not (workdir.path / HISTORY).exists()
    with throwaway_database(postgres_server) as database:
        rekeyed = workdir.run("state", "rekey", str(workdir.path), "--state", f"{database}?workspace=w")
        assert rekeyed.exit_code == 0, rekeyed.output
        with psycopg.connect(database) as conn:
            made = conn.execute("SELECT to_regclass('labform_test_history_keys') IS NOT NULL").fetchone()
    assert made == (False,)


def test_enforced_refuses_a_plain_history_and_a_plain_reader_refuses_an_encrypted_one(workdir, tmp_path_factory):
    record(workdir, "--plan", str(workdir.path))
    workdir.write(encryption(enforced=True))
    refused(workdir.run("tests", "flaky", str(workdir.path)), "holds unencrypted rows", "enforced")
    path = junit(workdir, "c.xml", {"ok": ("passed", 1)})
    refused(workdir.run("tests", "record", path, "--cloud", "bitbar", "--plan", str(workdir.path)), "unencrypted rows")

    sealed = type(workdir)(tmp_path_factory.mktemp("sealed"))
    sealed.write(encryption(enforced=True))
    record(sealed, "--plan", str(sealed.path))
    (sealed.path / "main.yaml").unlink()
    refused(sealed.run("tests", "flaky", str(sealed.path)), "is encrypted (key provider pbkdf2.main)")


def test_postgres_rows_hold_no_test_id_device_or_commit(workdir, postgres_server):
    workdir.write(encryption())
    with throwaway_database(postgres_server) as database:
        state = f"{database}?workspace=mobile-prod"
        record(workdir, "--plan", str(workdir.path), "--state", state)
        document = flaky(workdir, str(workdir.path), "--state", state)
        assert [(t["test_id"], t["flaky_commits"]) for t in document["flaky"]] == [("com.app.Login.flips", 1)]
        assert [t["test_id"] for t in document["broken"]] == ["com.app.Login.red"]
        with psycopg.connect(database) as conn:
            rows = conn.execute("SELECT * FROM labform_test_results").fetchall()
            keys = conn.execute("SELECT * FROM labform_test_history_keys").fetchall()
    assert len(rows) == 7 and all(row[-1] for row in rows)  # every row sealed
    dumped = repr(rows + keys).encode()
    assert not [word for word in CLEAR if word in dumped] and PASSPHRASE.encode() not in dumped


def test_an_applied_runs_junit_is_added_encrypted(shipped_plans, workdir, monkeypatch):
    monkeypatch.setenv("LABFORM_ENCRYPTION", encryption())
    applied = workdir.run("apply", "plans/bitbar-ci", "--sandbox", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    cases = ET.parse(shipped_plans / "reports/bitbar-smoke.xml").getroot().findall("testsuite/testcase")
    names = {f"{c.get('classname')}.{c.get('name')}" for c in cases}
    document = flaky(workdir, "plans/bitbar-ci", "--include-local")
    assert document["results"] == len(cases) and document["tests"] == len(names)
    [history] = shipped_plans.glob("plans/bitbar-ci/*.history.sqlite3")
    stored = history.read_bytes()
    assert not [name for name in names if name.encode() in stored]
    monkeypatch.delenv("LABFORM_ENCRYPTION")
    refused(workdir.run("tests", "flaky", "plans/bitbar-ci"), "is encrypted")


def test_a_plan_splits_shards_by_the_encrypted_history(kyaraben, workdir):
    kyaraben.set_quota(vm_live_max=3, vm_async_max=8)  # both shards' VMs at once
    plan_file = write_suite(workdir, "shards: 2")
    plan_file.write_text(plan_file.read_text() + encryption())
    record_history(workdir, SECONDS)
    assert b"com.app.Login" not in (workdir.path / HISTORY).read_bytes()
    plan = workdir.plan()
    assert plan.exit_code == 0, plan.output
    assert "2 shards by recorded durations, expected (units): 1: ~1m10s (2), 2: ~1m10s (2)" in plan.output
