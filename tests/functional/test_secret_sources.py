"""Secrets from where CI keeps them: besides ${env.X}, a file (a Kubernetes or Docker secret) and an
external program (``command()``: Vault, a cloud's secret manager), for a cloud's credential and for the
encryption passphrase; what they give is masked everywhere, and a failing program is a plain error."""

from __future__ import annotations

import json
import stat

from tests.conftest import BITBAR_KEY, state_of
from tests.functional.test_encryption import PASSPHRASE

PROJECT = "resources:\n  bitbar_project.checkout:\n    name: Checkout flow\n    type: ANDROID\n"


def _program(folder, name: str, body: str):
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _provider(api_key: str) -> str:
    return f"providers:\n  bitbar:\n    endpoint: ${{env.BITBAR_URL}}\n    api_key: '{api_key}'\n"


def test_a_credential_from_a_program_is_used_and_never_shown(bitbar, workdir, monkeypatch):
    calls = workdir.path / "calls"
    program = _program(workdir.path, "bitbar-key", f'echo called >> "{calls}"\necho "{BITBAR_KEY}"\n')
    monkeypatch.delenv("BITBAR_API_KEY", raising=False)
    workdir.write(_provider(f'${{command("{program}", "kv", "get")}}') + PROJECT)
    applied = workdir.run("--log-level", "DEBUG", "apply", str(workdir.path), "-auto-approve")
    assert applied.exit_code == 0, applied.output
    assert BITBAR_KEY not in applied.output and BITBAR_KEY not in workdir.state_file.read_text()
    assert len(state_of(workdir)["resources"]) == 1
    assert calls.read_text().count("called") == 1  # once per labform command, however often it is read


def test_a_credential_from_a_file(bitbar, workdir, monkeypatch):
    secret = workdir.path / "secrets" / "bitbar"
    secret.parent.mkdir()
    secret.write_text(BITBAR_KEY)
    monkeypatch.delenv("BITBAR_API_KEY", raising=False)
    workdir.write(_provider(f'${{file("{secret}")}}') + PROJECT)
    planned = workdir.plan("-json")
    assert planned.exit_code == 0, planned.output
    assert BITBAR_KEY not in planned.output


def test_a_failing_program_is_an_error_at_its_line(bitbar, workdir):
    program = _program(workdir.path, "vault", 'echo "permission denied" >&2\nexit 3\n')
    workdir.write(_provider(f'${{command("{program}")}}') + PROJECT)
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None, result.output
    assert "Traceback" not in result.output
    assert "main.yaml:4:5: provider bitbar" in result.stderr
    assert "vault exited 3 (its output is not shown)" in result.stderr and "permission denied" not in result.output
    workdir.write(_provider('${command("./no-such-program")}') + PROJECT)
    gone = workdir.plan()
    assert gone.exit_code == 1 and "cannot run ./no-such-program" in gone.stderr, gone.output
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []


def test_the_passphrase_from_a_program_or_a_file(bitbar, workdir, monkeypatch):
    program = _program(workdir.path, "passphrase", f'echo "{PASSPHRASE}"\n')
    secret = workdir.path / "passphrase.txt"
    secret.write_text(PASSPHRASE)
    for source in (f'${{command("{program}")}}', f'${{file("{secret}")}}'):
        block = (
            "encryption:\n  key_provider:\n    pbkdf2:\n"
            f"      main: {{passphrase: '{source}', iterations: 1000}}\n"
            "  method:\n    aes_gcm:\n      main: {keys: key_provider.pbkdf2.main}\n"
            "  state: {method: method.aes_gcm.main, enforced: true}\n"
        )
        workdir.write(_provider("${env.BITBAR_API_KEY}") + PROJECT + block)
        applied = workdir.apply()
        assert applied.exit_code == 0, applied.output
        assert PASSPHRASE not in applied.output
        assert workdir.state_file.read_text().startswith("labform-encrypted")
        listed = workdir.run("state", "list", str(workdir.path))
        assert listed.stdout.split() == ["bitbar_project.checkout"], listed.output
        assert json.loads(workdir.state_file.read_text().split("\n", 1)[1])["key_provider"] == "pbkdf2.main"
