"""A scripted run of 22 commands over an encrypted plan: the passphrase and the cloud credential are in no
stream and no byte of any file written (state, journal, mark, saved plan, step summary, sandbox data), and the
plan's content is readable in none of labform's own files."""

from __future__ import annotations

from tests.conftest import BITBAR_KEY
from tests.functional.test_encryption import PASSPHRASE, encryption, plan_text


def test_no_secret_in_any_output_or_file(bitbar, workdir, tmp_path, monkeypatch):
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("PASS_MAIN", PASSPHRASE)
    folder = workdir.path / "plan"
    folder.mkdir()
    outputs = "outputs:\n  project: ${bitbar_project.checkout.id}\n"
    (folder / "main.yaml").write_text(plan_text(block=encryption("main")) + outputs)
    plan, saved = str(folder), str(workdir.path / "tfplan")
    script = [
        ("validate", plan),
        ("--log-level", "DEBUG", "plan", plan),
        ("plan", plan, "-json"),
        ("plan", plan, "-out", saved),
        ("show", saved),
        ("show", saved, "-json"),
        ("--log-level", "DEBUG", "apply", saved),
        ("plan", plan, "-detailed-exitcode"),
        ("state", "list", plan),
        ("state", "show", "bitbar_project.checkout", plan),
        ("output", plan),
        ("output", "-json", plan),
        ("show", plan),
        ("show", plan, "-json"),
        ("state", "rekey", plan),
        ("state", "mv", "bitbar_project.checkout", "bitbar_project.shop", plan),
        ("state", "mv", "bitbar_project.shop", "bitbar_project.checkout", plan),
        ("refresh", plan),
        ("apply", plan, "-auto-approve", "-json"),
        ("force-unlock", plan),
        ("graph", plan),
        ("destroy", plan, "-auto-approve"),
    ]
    streams = []
    for command in script:
        result = workdir.run(*command)
        assert result.exit_code in (0, 2), (command, result.output)
        streams.append(result.output)
    secrets = (PASSPHRASE.encode(), BITBAR_KEY.encode())
    for text in streams:
        assert not any(secret in text.encode() for secret in secrets)
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert summary in written and folder / "labform.state.json.highwater" in written
    for path in written:
        content = path.read_bytes()
        assert not any(secret in content for secret in secrets), path
    for name in ("labform.state.json", "labform.state.json.highwater"):
        assert b"Checkout" not in (folder / name).read_bytes()
    assert b"Checkout" not in (workdir.path / "tfplan").read_bytes()
