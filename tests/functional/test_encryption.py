"""Encryption at rest through the CLI, local state: round trips, rotation, rekey, migration, rollback,
swap, tampering and wrong keys (the Bitbar emulator on loopback; PBKDF2 at a low count set by the config)."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap

import pytest

from labform.engine.encryption import envelope, highwater
from labform.engine.encryption.configured import encryption_config
from labform.engine.encryption.envelope import MAGIC
from tests.conftest import BITBAR_PROVIDER

PASSPHRASE = "correct horse battery staple"
OTHER_PASSPHRASE = "a second long passphrase"


def encryption(*providers: str, current: str = "main", fallback: str | None = None, extra: str = "") -> str:
    """An encryption: block with a pbkdf2 provider per name (passphrase from ${env.PASS_<NAME>})."""
    keys = "".join(
        f'      {name}: {{passphrase: "${{env.PASS_{name.upper()}}}", iterations: 1000}}\n' for name in providers
    )
    methods = "".join(f"      {name}: {{keys: key_provider.pbkdf2.{name}}}\n" for name in providers)
    state = f"method: method.aes_gcm.{current}" + (
        f", fallback: {{method: method.aes_gcm.{fallback}}}" if fallback else ""
    )
    return (
        "encryption:\n  key_provider:\n    pbkdf2:\n"
        + keys
        + "  method:\n    aes_gcm:\n"
        + methods
        + f"  state: {{{state}{extra}}}\n  plan: {{method: method.aes_gcm.{current}}}\n"
    )


def plan_text(name: str = "Checkout flow", block: str = "") -> str:
    resources = f"resources:\n  bitbar_project.checkout:\n    name: {name}\n    type: ANDROID\n"
    return BITBAR_PROVIDER + resources + block


@pytest.fixture(autouse=True)
def passphrases(monkeypatch):
    monkeypatch.setenv("PASS_MAIN", PASSPHRASE)
    monkeypatch.setenv("PASS_NEW", OTHER_PASSPHRASE)
    monkeypatch.delenv("LABFORM_ENCRYPTION", raising=False)


def header(path) -> dict:
    magic, document = path.read_text().split("\n", 1)
    assert magic == MAGIC
    return json.loads(document)


def refused(result, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None and "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def test_state_round_trip_encrypted_with_a_cleartext_header(bitbar, workdir):
    """apply writes the state sealed: the header names method and key provider, nothing of the plan is readable;
    plan, state list/show, output and force-unlock read it back."""
    workdir.write(plan_text(block=encryption("main")) + "outputs:\n  project: ${bitbar_project.checkout.id}\n")
    assert workdir.apply().exit_code == 0
    sealed = header(workdir.state_file)
    assert (sealed["method"], sealed["key_provider"], sealed["content"]) == ("aes_gcm", "pbkdf2.main", "state")
    assert sealed["key_meta"]["iterations"] == 1000 and sealed["key_meta"]["hash_function"] == "sha512"
    for file in workdir.path.glob("labform.state.json*"):
        if file.is_file():
            assert b"Checkout" not in file.read_bytes() and b"bitbar_project" not in file.read_bytes()
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    assert workdir.run("state", "list", str(workdir.path)).stdout == "bitbar_project.checkout\n"
    assert "Checkout flow" in workdir.run("state", "show", "bitbar_project.checkout", str(workdir.path)).stdout
    assert workdir.run("output", "-raw", "project", str(workdir.path)).stdout.isdigit()
    assert workdir.run("force-unlock", str(workdir.path)).exit_code == 0


def test_saved_plan_round_trip_encrypted(bitbar, workdir, tmp_path_factory):
    """plan -out seals the plan file; show and apply FILE open it, from the folder its header names or,
    without that folder, with LABFORM_ENCRYPTION."""
    workdir.write(plan_text(block=encryption("main")))
    saved = workdir.path / "tfplan"
    assert workdir.plan("-out", str(saved)).exit_code == 0
    assert header(saved)["content"] == "saved plan" and b"Checkout" not in saved.read_bytes()
    assert "bitbar_project.checkout" in workdir.run("show", str(saved)).stdout
    applied = workdir.run("apply", str(saved))
    assert applied.exit_code == 0, applied.output
    # Elsewhere, with the configuration in the environment only:
    elsewhere = tmp_path_factory.mktemp("ci-cache")
    shutil.copy(saved, elsewhere / "tfplan")
    again = workdir.run("show", str(elsewhere / "tfplan"))
    assert again.exit_code == 0  # the header still names the plan folder, which is here
    moved = workdir.path.rename(workdir.path.with_name(workdir.path.name + "-gone"))
    try:
        lost = workdir.run("show", str(elsewhere / "tfplan"))
        refused(lost, "is encrypted (aes_gcm, key provider pbkdf2.main)", "LABFORM_ENCRYPTION")
        env = encryption("main").split("\n", 1)[1]  # the block's body, as YAML
        import os

        os.environ["LABFORM_ENCRYPTION"] = textwrap.dedent(env)
        try:
            assert "bitbar_project.checkout" in workdir.run("show", str(elsewhere / "tfplan")).stdout
        finally:
            del os.environ["LABFORM_ENCRYPTION"]
    finally:
        moved.rename(workdir.path)


def test_environment_configuration_decrypts_without_the_plan_folder(bitbar, workdir, tmp_path, monkeypatch):
    """LABFORM_ENCRYPTION (JSON here) is the whole configuration for commands run away from the plan."""
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply().exit_code == 0
    state = str(workdir.state_file)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    refused(workdir.run("state", "list", "--state", state), "is encrypted", "no encryption is configured")
    config = {
        "key_provider": {"pbkdf2": {"main": {"passphrase": "${env.PASS_MAIN}", "iterations": 1000}}},
        "method": {"aes_gcm": {"main": {"keys": "key_provider.pbkdf2.main"}}},
        "state": {"method": "method.aes_gcm.main"},
    }
    monkeypatch.setenv("LABFORM_ENCRYPTION", json.dumps(config))
    assert workdir.run("state", "list", "--state", state).stdout == "bitbar_project.checkout\n"
    assert workdir.run("force-unlock", "--state", state).exit_code == 0


def test_rotation_fallback_reads_the_old_key_and_the_next_write_uses_the_new(bitbar, workdir):
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply().exit_code == 0
    workdir.write(plan_text(block=encryption("main", "new", current="new", fallback="main")))
    assert workdir.plan("--detailed-exitcode").exit_code == 0  # read with the fallback
    assert header(workdir.state_file)["key_provider"] == "pbkdf2.main"
    workdir.write(plan_text("Checkout flow 2", encryption("main", "new", current="new", fallback="main")))
    assert workdir.apply().exit_code == 0
    assert header(workdir.state_file)["key_provider"] == "pbkdf2.new"
    assert header(workdir.state_file.with_name("labform.state.json.highwater"))["key_provider"] == "pbkdf2.new"
    workdir.write(plan_text("Checkout flow 2", encryption("new", current="new")))  # the old key retired
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_rekey_rewrites_everything_with_the_new_key(bitbar, workdir):
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply().exit_code == 0
    serial = header(workdir.state_file)["context"]["serial"]
    workdir.write(plan_text(block=encryption("main", "new", current="new", fallback="main")))
    rekeyed = workdir.run("state", "rekey", str(workdir.path))
    assert rekeyed.exit_code == 0 and "encrypted (aes_gcm, key provider pbkdf2.new)" in rekeyed.stdout
    assert header(workdir.state_file)["key_provider"] == "pbkdf2.new"
    assert header(workdir.state_file)["context"]["serial"] == serial + 1
    workdir.write(plan_text(block=encryption("new", current="new")))
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    # Without the fallback, a state the retired key wrote names that key provider.
    workdir.write(plan_text(block=encryption("main")))
    refused(workdir.plan(), "encrypted with key provider pbkdf2.new", "uses pbkdf2.main", "fallback")


def test_migration_plain_to_encrypted_and_back_only_with_the_flag(bitbar, workdir):
    workdir.write(plan_text())
    assert workdir.apply().exit_code == 0
    plain = json.loads(workdir.state_file.read_text())
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.run("state", "encrypt", str(workdir.path)).exit_code == 0
    assert header(workdir.state_file)["context"]["serial"] == plain["serial"] + 1
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    refused(workdir.run("state", "decrypt", str(workdir.path)), "--allow-plaintext")
    assert workdir.state_file.read_text().startswith(MAGIC)  # nothing written
    back = workdir.run("state", "decrypt", "--allow-plaintext", str(workdir.path))
    assert back.exit_code == 0 and "unencrypted" in back.stdout
    assert json.loads(workdir.state_file.read_text())["resources"]["bitbar_project.checkout"]
    assert not workdir.state_file.with_name("labform.state.json.highwater").exists()
    workdir.write(plan_text())
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_enforced_refuses_plain_state_and_decrypting(bitbar, workdir):
    workdir.write(plan_text())
    assert workdir.apply().exit_code == 0
    workdir.write(plan_text(block=encryption("main", extra=", enforced: true")))
    before = workdir.state_file.read_bytes()
    refused(workdir.plan(), "is not encrypted, and the state's encryption is enforced")
    assert workdir.state_file.read_bytes() == before
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.run("state", "encrypt", str(workdir.path)).exit_code == 0
    workdir.write(plan_text(block=encryption("main", extra=", enforced: true")))
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    refused(workdir.run("state", "decrypt", "--allow-plaintext", str(workdir.path)), "enforced")


def test_plain_state_put_in_place_of_an_encrypted_one_is_refused(bitbar, workdir):
    """Not enforced, but the high-water mark shows labform wrote it encrypted: a plaintext state is a replacement."""
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply().exit_code == 0
    workdir.state_file.write_text(json.dumps({"serial": 99, "lineage": "x", "resources": {}}))
    refused(workdir.plan(), "is not encrypted, but this backend wrote it encrypted up to serial")


def test_rolled_back_state_is_refused_naming_both_serials_until_accepted_on_purpose(bitbar, workdir, tmp_path):
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply().exit_code == 0
    old = tmp_path / "old.state.json"
    shutil.copy(workdir.state_file, old)
    old_serial = header(old)["context"]["serial"]
    workdir.write(plan_text("Checkout flow 2", encryption("main")))
    assert workdir.apply().exit_code == 0
    new_serial = header(workdir.state_file)["context"]["serial"]
    shutil.copy(old, workdir.state_file)
    refused(
        workdir.plan(),
        f"was rolled back: its serial {old_serial} is older than serial {new_serial}",
        "state rekey -force-rollback",
    )
    refused(workdir.apply(), "rolled back")
    assert workdir.state_file.read_bytes() == old.read_bytes()  # nothing written
    accepted = workdir.run("state", "rekey", "-force-rollback", str(workdir.path))
    assert accepted.exit_code == 0 and f"high-water mark (serial {new_serial}" in accepted.stderr
    assert workdir.plan().exit_code == 0  # the mark followed it down; the rename is planned again
    mark_file = workdir.state_file.with_name("labform.state.json.highwater")
    target = encryption_config(workdir.path).state
    mark = highwater.opened(envelope.from_text(mark_file.read_text()), target, "test")
    assert [(f["from"]["serial"], f["to"]["serial"]) for f in mark.forced] == [(new_serial, old_serial + 1)]
    workdir.state_file.unlink()
    refused(workdir.plan(), "is gone or empty (serial 0)")


def test_state_of_another_lineage_is_refused(bitbar, workdir, tmp_path):
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply().exit_code == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.yaml").write_text(plan_text("Other", encryption("main")))
    assert workdir.run("apply", str(other), "--auto-approve").exit_code == 0
    for _ in range(3):  # the swapped-in state is newer than ours: its serial alone would pass
        (other / "main.yaml").write_text(plan_text(f"Other {_}", encryption("main")))
        assert workdir.run("apply", str(other), "--auto-approve").exit_code == 0
    shutil.copy(other / "labform.state.json", workdir.state_file)
    refused(workdir.plan(), "is of another lineage", "it was swapped")


@pytest.mark.parametrize("where", ["ciphertext", "header"])
def test_a_tampered_byte_is_reported_as_tampered(bitbar, workdir, where):
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply().exit_code == 0
    magic, document = workdir.state_file.read_text().split("\n", 1)
    sealed = json.loads(document)
    if where == "ciphertext":
        text = sealed["ciphertext"]
        sealed["ciphertext"] = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
    else:
        sealed["context"]["serial"] += 5  # a header made to look newer
    workdir.state_file.write_text(f"{magic}\n{json.dumps(sealed)}\n")
    before = workdir.state_file.read_bytes()
    result = workdir.plan()
    refused(result, "is tampered", "key provider pbkdf2.main")
    assert "JSON" not in result.stderr
    assert workdir.state_file.read_bytes() == before


def test_wrong_and_missing_passphrase_name_the_key_provider(bitbar, workdir, monkeypatch):
    workdir.write(plan_text(block=encryption("main")))
    assert workdir.apply().exit_code == 0
    before = workdir.state_file.read_bytes()
    monkeypatch.setenv("PASS_MAIN", "not the passphrase at all")
    wrong = workdir.plan()
    refused(wrong, "cannot decrypt state", "the key from key provider pbkdf2.main is not the one")
    assert PASSPHRASE not in wrong.output and "not the passphrase at all" not in wrong.output
    monkeypatch.delenv("PASS_MAIN")
    refused(workdir.plan(), "key provider pbkdf2.main: environment variable PASS_MAIN is not set")
    monkeypatch.setenv("PASS_MAIN", "short")
    refused(workdir.plan(), "key provider pbkdf2.main: the passphrase must have at least 16 characters")
    assert workdir.state_file.read_bytes() == before


def test_configuration_mistakes_name_file_line_and_field(bitbar, workdir, monkeypatch):
    workdir.write(plan_text(block=encryption("main").replace("method.aes_gcm.main}", "method.aes_gcm.mian}", 1)))
    for command in ("plan", "validate"):
        refused(
            workdir.run(command, str(workdir.path)),
            "main.yaml:",
            "encryption.state.method: 'method.aes_gcm.mian' is not a configured method",
        )
    written = encryption("main").replace('"${env.PASS_MAIN}"', "written-into-the-plan-file")
    workdir.write(plan_text(block=written))
    result = workdir.plan()
    refused(result, "main.yaml:12:14:", "write the passphrase as ${env.NAME}")
    assert "written-into-the-plan-file" not in result.output
    monkeypatch.setenv("LABFORM_ENCRYPTION", "{state: {method: nope}}")
    workdir.write(plan_text())
    refused(workdir.plan(), "LABFORM_ENCRYPTION: encryption.state.method")


KEY_PROGRAM = """\
import base64, json, sys
print(json.dumps({"magic": "OpenTofu-External-Key-Provider", "version": 1}), flush=True)
meta = json.loads(sys.stdin.read())
key = base64.b64encode(bytes(range(32))).decode()
print(json.dumps({"keys": {"encryption_key": key, "decryption_key": key if meta else None}, "meta": {"key_id": "k1"}}))
"""


def test_command_key_provider_speaks_the_external_protocol(bitbar, workdir, tmp_path):
    program = tmp_path / "key.py"
    program.write_text(KEY_PROGRAM)
    block = textwrap.dedent(f"""\
        encryption:
          key_provider:
            command:
              vault: {{command: [{sys.executable}, {program}]}}
          method:
            aes_gcm:
              kms: {{keys: key_provider.command.vault}}
          state: {{method: method.aes_gcm.kms}}
        """)
    workdir.write(plan_text(block=block))
    assert workdir.apply().exit_code == 0
    sealed = header(workdir.state_file)
    assert sealed["key_provider"] == "command.vault" and sealed["key_meta"] == {"key_id": "k1"}
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    failing = tmp_path / "sealed-vault.py"
    failing.write_text("import sys\nprint('vault is sealed', file=sys.stderr)\nsys.exit(3)\n")
    workdir.write(plan_text(block=block.replace(str(program), str(failing))))
    refused(workdir.plan(), "key provider command.vault:", "exited 3 (its output is not shown)")


MARK_KEEPER = """\
import hashlib, pathlib, sys
verb, name = sys.argv[2], sys.argv[3]
kept = pathlib.Path(sys.argv[1]) / hashlib.sha256(name.encode()).hexdigest()
if verb == "get":
    print(kept.read_text() if kept.exists() else "")
elif verb == "put":
    kept.write_text(sys.stdin.read())
elif verb == "delete":
    kept.unlink(missing_ok=True)
else:
    sys.exit(2)
"""


def _state_files(workdir):
    return {p.name: p.read_bytes() for p in workdir.state_file.parent.glob(workdir.state_file.name + "*")}


def _restore(workdir, files) -> None:
    for path in workdir.state_file.parent.glob(workdir.state_file.name + "*"):
        path.unlink()
    for name, data in files.items():
        (workdir.state_file.parent / name).write_bytes(data)


@pytest.mark.parametrize("kept_elsewhere", [False, True])
def test_a_whole_state_folder_restored_is_refused_only_with_the_mark_kept_elsewhere(
    bitbar, workdir, tmp_path, kept_elsewhere
):
    program, marks = tmp_path / "keeper.py", tmp_path / "marks"
    program.write_text(MARK_KEEPER)
    marks.mkdir()
    extra = f", high_water: {{command: [{sys.executable}, {program}, {marks}]}}" if kept_elsewhere else ""
    workdir.write(plan_text(block=encryption("main", extra=extra)))
    assert workdir.apply().exit_code == 0
    beside = workdir.state_file.with_name("labform.state.json.highwater")
    assert beside.exists() is not kept_elsewhere and len(list(marks.iterdir())) == int(kept_elsewhere)
    backup = _state_files(workdir)
    workdir.write(plan_text("Checkout flow 2", encryption("main", extra=extra)))
    assert workdir.apply().exit_code == 0
    _restore(workdir, backup)  # the state, its journal and whatever lay beside them, from the backup
    if not kept_elsewhere:  # the README's threat model: a mark restored with the state cannot see it
        assert workdir.plan().exit_code == 0
        return
    refused(workdir.plan(), "was rolled back: its serial", "state rekey -force-rollback")
    accepted = workdir.run("state", "rekey", "-force-rollback", str(workdir.path))
    assert accepted.exit_code == 0, accepted.output
    assert workdir.plan().exit_code == 0  # the kept mark followed it down


def test_a_failing_mark_keeper_is_a_clear_error_and_nothing_is_written(bitbar, workdir, tmp_path):
    failing = tmp_path / "keeper.py"
    failing.write_text("import sys\nprint('token expired: s3cr3t', file=sys.stderr)\nsys.exit(3)\n")
    workdir.write(
        plan_text(block=encryption("main", extra=f", high_water: {{command: [{sys.executable}, {failing}]}}"))
    )
    result = workdir.apply()
    refused(result, "state.high_water.command", "exited 3 (its output is not shown)")
    assert "s3cr3t" not in result.output and not workdir.state_file.exists()
