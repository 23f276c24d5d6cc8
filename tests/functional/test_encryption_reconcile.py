"""Reconciliations sealed in PostgreSQL (the ``reconciliations`` encryption target), through the CLI: a real git
repository, the Bitbar emulator over HTTP, a throwaway database whose rows are read back as bytes."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import psycopg
import pytest

from labform.engine.reconcile.records import SCHEMA
from tests.functional import test_reconcile
from tests.functional import test_reconcile_kit as kit
from tests.functional.test_reconcile_kit import write_config

reconcile_db, repo = kit.reconcile_db, kit.repo  # the kit's fixtures, used here
cloud_env = test_reconcile.cloud_env  # the emulator given to the workspace by its own env:

pytestmark = pytest.mark.usefixtures("bitbar")

PASSPHRASE = "correct horse battery staple"
KEYS = """\
key_provider:
  pbkdf2:
    main: {passphrase: "${env.RECONCILE_PASSPHRASE}"}
method:
  aes_gcm:
    current: {keys: key_provider.pbkdf2.main}
"""
# What the plan names and the cloud answered: none of it may be in a row's bytes.
PLAN_CONTENT = ("bitbar_device_group", "bitbar_project", "Smoke phones", "Checkout", "Edited on Tuesday")


@pytest.fixture(autouse=True)
def passphrase(monkeypatch):
    monkeypatch.setenv("RECONCILE_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("RECONCILE_NEW_PASSPHRASE", "a second long passphrase")
    monkeypatch.delenv("LABFORM_ENCRYPTION", raising=False)


# A rotation's keys: the passphrase of pbkdf2.new, and method ``rotated`` under it.
ROTATION_KEYS = (
    KEYS.replace(
        "  pbkdf2:\n", '  pbkdf2:\n    new: {passphrase: "${env.RECONCILE_NEW_PASSPHRASE}", iterations: 1000}\n'
    )
    + "    rotated: {keys: key_provider.pbkdf2.new}\n"
)
ROTATED = "{method: method.aes_gcm.rotated, fallback: {method: method.aes_gcm.current}}"


def _config(
    tmp_path, db, repo, cloud_env, mode, encryption: str | None = "{method: method.aes_gcm.current}", keys=KEYS
):
    """The config, its ``encryption:`` section the keys and (unless None) this reconciliations target."""
    section = "" if encryption is None else "encryption:\n" + textwrap.indent(keys, "  ")
    section += f"  reconciliations: {encryption}\n" if encryption else ""
    workspaces = f"""\
    shop:
      repo: {repo.path}
      path: quickstart
      {cloud_env}
      policy: {{mode: {mode}}}
"""
    return write_config(tmp_path, db, workspaces, section)


def _run(workdir, config, *command):
    return workdir.run("reconcile", *command, "--config", str(config))


def _rows(db) -> list[str]:
    with psycopg.connect(db) as conn:
        return [
            text for (text,) in conn.execute("SELECT row_to_json(r)::text FROM labform_reconciliations r ORDER BY id")
        ]


def _applied_then_drifted(workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar) -> int:
    """An auto reconcile that applies the quickstart, a hand edit, then a detect reconcile finding it: its id."""
    applying = _config(tmp_path, reconcile_db, repo, cloud_env, "auto")
    assert _run(workdir, applying, "now", "shop").exit_code == 0
    test_reconcile._rename_group_by_hand(bitbar, "Edited on Tuesday")
    found = _run(workdir, _config(tmp_path, reconcile_db, repo, cloud_env, "detect"), "now", "shop", "-json")
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["outcome"] == "drift"
    return int(json.loads(found.stdout)["id"])


def test_rows_hold_no_plan_content_and_status_decrypts_them(workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar):
    drifted = _applied_then_drifted(workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar)
    rows = _rows(reconcile_db)
    assert len(rows) == 2
    for text in rows:
        assert not [word for word in PLAN_CONTENT if word in text], text
        assert '"key_provider":"pbkdf2.main"' in text.replace(" ", "")
        assert "reconcile-reports" not in text  # the report's path is sealed too
    assert '"outcome":"drift"' in rows[1].replace(" ", "")  # scheduling and listing read it in clear
    config = tmp_path / "labform.reconcile.yaml"
    status = _run(workdir, config, "status", "shop", "-json")
    assert status.exit_code == 0, status.output
    latest = json.loads(status.stdout)["workspaces"]["shop"]
    assert (latest["id"], latest["policy"]["mode"], latest["summary"]["change"]) == (drifted, "detect", 1)
    assert latest["drift"] == [
        {
            "address": "bitbar_device_group.smoke",
            "reason": "changed outside labform",
            "attributes": {"name": {"old": "Smoke phones", "new": "Edited on Tuesday"}},
        }
    ]
    assert '| `name` | `"Smoke phones"` | `"Edited on Tuesday"` |' in Path(latest["report"]).read_text()
    applied = json.loads(status.stdout)["history"][1]
    assert {a["address"] for a in applied["applied"]} >= {"bitbar_device_group.smoke", "bitbar_project.checkout"}
    text = _run(workdir, config, "status", "shop")
    assert text.exit_code == 0 and f"#{drifted} shop: drift at " in text.stdout and "1 drifted" in text.stdout
    assert "encrypted" not in text.stdout
    with psycopg.connect(reconcile_db, autocommit=True) as conn:  # what someone with write access could do
        conn.execute("UPDATE labform_reconciliations SET error = report WHERE id = %s", (drifted,))
    moved = json.loads(_run(workdir, config, "status", "shop", "-json").stdout)["workspaces"]["shop"]
    assert moved["error"] == (
        f"(encrypted: cannot decrypt with pbkdf2.main: it was sealed as the report of reconciliation #{drifted} "
        "of 'shop', and copied here)"
    )


def test_status_without_the_key_lists_the_rows_and_says_why(
    workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar, monkeypatch
):
    drifted = _applied_then_drifted(workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar)
    config = tmp_path / "labform.reconcile.yaml"
    monkeypatch.setenv("RECONCILE_PASSPHRASE", "the wrong horse, battery and staple")
    wrong = _run(workdir, config, "status", "shop")
    assert wrong.exit_code == 0, wrong.output  # listed: what status cannot show, it says
    why = "(encrypted: cannot decrypt with pbkdf2.main: the key from key provider pbkdf2.main is not the one"
    assert f"#{drifted} shop: drift at " in wrong.stdout and ", 1 drifted in " in wrong.stdout  # counts in clear
    assert f"drift, applied, policy, report {why}" in wrong.stdout
    document = json.loads(_run(workdir, config, "status", "shop", "-json").stdout)
    latest = document["workspaces"]["shop"]
    assert latest["outcome"] == "drift" and latest["summary"]["change"] == 1
    assert latest["drift"].startswith(why) and latest["report"].startswith(why)
    assert "Smoke phones" not in json.dumps(document)
    mistyped = _run(workdir, config, "now", "shop")  # would write a row no one else can read
    assert mistyped.exit_code == 1
    assert f"cannot decrypt reconciliation #{drifted}: the key from key provider pbkdf2.main is not the one" in (
        mistyped.stderr
    )
    assert len(_rows(reconcile_db)) == 2
    _config(tmp_path, reconcile_db, repo, cloud_env, "detect", encryption=None)  # no key at all
    none = _run(workdir, config, "status", "shop", "-json")
    assert none.exit_code == 0, none.output
    assert json.loads(none.stdout)["workspaces"]["shop"]["drift"] == (
        "(encrypted: cannot decrypt with pbkdf2.main: no reconciliations encryption is configured "
        "(encryption: in the reconcile configuration, or LABFORM_ENCRYPTION))"
    )


def test_enforced_refuses_a_plain_row_and_a_row_it_cannot_seal(
    workdir, tmp_path, reconcile_db, repo, cloud_env, monkeypatch
):
    """Keys from LABFORM_ENCRYPTION alone; once a row is written enforced, a process without the key writes none."""
    monkeypatch.setenv(
        "LABFORM_ENCRYPTION",
        KEYS + "reconciliations: {method: method.aes_gcm.current, enforced: true}\n",
    )
    config = _config(tmp_path, reconcile_db, repo, cloud_env, "detect", encryption=None)
    assert _run(workdir, config, "now", "shop").exit_code == 0
    assert '"enforced":true' in _rows(reconcile_db)[0].replace(" ", "")
    monkeypatch.delenv("RECONCILE_PASSPHRASE")
    unsealable = _run(workdir, config, "now", "shop")
    assert unsealable.exit_code == 1
    assert "environment variable RECONCILE_PASSPHRASE is not set" in unsealable.stderr
    monkeypatch.delenv("LABFORM_ENCRYPTION")
    plain = _run(workdir, config, "now", "shop")
    assert plain.exit_code == 1
    assert (
        "the reconciliations in this database are encrypted and enforced (#1, aes_gcm, key provider pbkdf2.main), "
        "and no reconciliations encryption is configured here"
    ) in plain.stderr
    assert len(_rows(reconcile_db)) == 1  # neither wrote a row


def test_the_reconcile_config_encrypts_only_reconciliations(workdir, tmp_path, reconcile_db, repo, cloud_env):
    config = _config(tmp_path, reconcile_db, repo, cloud_env, "detect")
    config.write_text(config.read_text().replace("  reconciliations:", "  state:"))
    refused = _run(workdir, config, "validate")
    assert refused.exit_code == 1
    assert (
        "labform.reconcile.yaml:9:3: encryption.state: the reconcile configuration encrypts only reconciliations"
        in (refused.stderr)
    )


def test_a_plan_awaiting_approval_is_sealed_and_applies_once_approved(
    workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar, monkeypatch
):
    config = _config(tmp_path, reconcile_db, repo, cloud_env, "approve")
    waiting = json.loads(_run(workdir, config, "now", "shop", "-json").stdout)
    assert (waiting["outcome"], waiting["awaiting_approval"]) == ("awaiting approval", True)
    (row,) = _rows(reconcile_db)
    assert '"saved_plan":{"sealed"' in row.replace(" ", "") and "Checkout" not in row
    monkeypatch.setenv("RECONCILE_PASSPHRASE", "the wrong horse, battery and staple")
    listed = json.loads(_run(workdir, config, "status", "shop", "-json").stdout)["workspaces"]["shop"]
    assert (listed["outcome"], listed["awaiting_approval"]) == ("awaiting approval", True)
    unreadable = _run(workdir, config, "approve", "shop", str(waiting["id"]))
    assert unreadable.exit_code == 1
    assert f"reconciliation #{waiting['id']} of 'shop': its saved plan (encrypted: cannot decrypt with pbkdf2.main" in (
        unreadable.stderr
    )
    assert not bitbar.app.store.data["projects"]
    monkeypatch.setenv("RECONCILE_PASSPHRASE", PASSPHRASE)
    approved = _run(workdir, config, "approve", "shop", str(waiting["id"]))
    assert approved.exit_code == 0, approved.output
    assert [p["name"] for p in bitbar.app.store.data["projects"].values()] == ["Checkout flow"]


def test_a_dead_workers_row_is_closed_with_a_sealed_error(workdir, tmp_path, reconcile_db, repo, cloud_env):
    config = _config(tmp_path, reconcile_db, repo, cloud_env, "detect")
    with psycopg.connect(reconcile_db, autocommit=True) as conn:  # the schema, then a row its worker never finished
        conn.execute(SCHEMA)
        (dead,) = conn.execute(
            "INSERT INTO labform_reconciliations (workspace, worker) VALUES ('shop', 'gone:1') RETURNING id"
        ).fetchone()
    assert _run(workdir, config, "now", "shop").exit_code == 0
    assert "its worker stopped" not in _rows(reconcile_db)[0]
    history = json.loads(_run(workdir, config, "status", "shop", "-json").stdout)["history"]
    assert (history[-1]["id"], history[-1]["outcome"]) == (dead, "failed")
    assert history[-1]["error"] == "its worker stopped before finishing; the next reconcile took over"


def _providers(db) -> list[set[str]]:
    """Each row's key providers, as its bytes name them."""
    return [set(re.findall(r'"key_provider": ?"([^"]+)"', text)) for text in _rows(db)]


def test_rekey_seals_every_row_with_the_new_key_so_the_old_one_can_go(
    workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar
):
    drifted = _applied_then_drifted(workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar)
    assert _providers(reconcile_db) == [{"pbkdf2.main"}, {"pbkdf2.main"}]
    config = _config(tmp_path, reconcile_db, repo, cloud_env, "detect", ROTATED, ROTATION_KEYS)
    rekeyed = _run(workdir, config, "rekey")
    assert rekeyed.exit_code == 0, rekeyed.output
    assert "Sealed 2 of 2 finished reconciliations anew with aes_gcm, key provider pbkdf2.new." in rekeyed.stdout
    assert _providers(reconcile_db) == [{"pbkdf2.new"}, {"pbkdf2.new"}]
    assert not [word for text in _rows(reconcile_db) for word in PLAN_CONTENT if word in text]
    # The old key retired: the new one alone reads both rows.
    config = _config(
        tmp_path, reconcile_db, repo, cloud_env, "detect", "{method: method.aes_gcm.rotated}", ROTATION_KEYS
    )
    status = json.loads(_run(workdir, config, "status", "shop", "-json").stdout)
    assert status["workspaces"]["shop"]["id"] == drifted
    assert status["workspaces"]["shop"]["drift"][0]["attributes"]["name"]["new"] == "Edited on Tuesday"
    assert {a["address"] for a in status["history"][1]["applied"]} >= {"bitbar_project.checkout"}
    again = _run(workdir, config, "rekey")
    assert again.exit_code == 0 and "Sealed 0 of 2 finished" in again.stdout, again.output


def test_rekey_seals_the_rows_written_before_the_target_was_configured(
    workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar
):
    plain = _config(tmp_path, reconcile_db, repo, cloud_env, "auto", encryption=None)
    assert _run(workdir, plain, "now", "shop").exit_code == 0
    assert "bitbar_project" in _rows(reconcile_db)[0]
    sealed = _config(tmp_path, reconcile_db, repo, cloud_env, "auto")
    rekeyed = _run(workdir, sealed, "rekey")
    assert rekeyed.exit_code == 0 and "Sealed 1 of 1 finished" in rekeyed.stdout, rekeyed.output
    (row,) = _rows(reconcile_db)
    assert not [word for word in PLAN_CONTENT if word in row], row
    applied = json.loads(_run(workdir, sealed, "status", "shop", "-json").stdout)["workspaces"]["shop"]["applied"]
    assert "bitbar_project.checkout" in {a["address"] for a in applied}


def test_rekey_writes_nothing_when_a_row_cannot_be_opened(workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar):
    drifted = _applied_then_drifted(workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar)
    with psycopg.connect(reconcile_db, autocommit=True) as conn:  # a sealed value copied into another row
        conn.execute("UPDATE labform_reconciliations SET error = report WHERE id = %s", (drifted,))
    before = _rows(reconcile_db)
    config = _config(tmp_path, reconcile_db, repo, cloud_env, "detect", ROTATED, ROTATION_KEYS)
    refused = _run(workdir, config, "rekey")
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert (
        f"reconciliation #{drifted} of 'shop': its error (encrypted: cannot decrypt with pbkdf2.main: "
        f"it was sealed as the report of reconciliation #{drifted}"
    ) in refused.stderr
    assert _rows(reconcile_db) == before  # the first row, which it could read, is not rewritten either
    unconfigured = _run(workdir, _config(tmp_path, reconcile_db, repo, cloud_env, "detect", None), "rekey")
    assert unconfigured.exit_code == 1 and "no reconciliations encryption is configured" in unconfigured.stderr
