"""A scripted run of 27 commands over an encrypted plan with a waited-for run: the passphrase and the cloud
credential are in no stream, no byte of any file written (state, journal, mark, saved plan, step summary,
sandbox data, the report, the reconcile's checkout, saved plan and drift report) and no row the reconcile
wrote in PostgreSQL, and the plan's content is readable in none of labform's own files."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.apps import build_apk, text_manifest
from tests.conftest import BITBAR_KEY
from tests.functional import test_reconcile_kit as kit
from tests.functional.test_bitbar_runs import WAIT
from tests.functional.test_encryption import PASSPHRASE, encryption, plan_text

reconcile_db = kit.reconcile_db  # the kit's throwaway database, used here

# A run of the project (on the free devices its default config uses), so the report has one to show.
RUN = f"""  bitbar_file.app:
    project: ${{bitbar_project.checkout.id}}
    kind: application
    path: APP
  bitbar_file.tests:
    project: ${{bitbar_project.checkout.id}}
    kind: test
    path: TESTS
  bitbar_run.smoke:
    project: ${{bitbar_project.checkout.id}}
    triggers: ["${{bitbar_file.app.sha256}}", "${{bitbar_file.tests.sha256}}"]
    {WAIT}
"""
# The reconcile configuration's own target, under the same passphrase.
RECONCILIATIONS = """encryption:
  key_provider: {pbkdf2: {main: {passphrase: "${env.PASS_MAIN}", iterations: 1000}}}
  method: {aes_gcm: {main: {keys: key_provider.pbkdf2.main}}}
  reconciliations: {method: method.aes_gcm.main}
"""


def rows(database: str) -> list[str]:
    """Every row of every table in the database, as JSON text."""
    with psycopg.connect(database) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        return [
            text
            for (table,) in tables
            for (text,) in conn.execute(f'SELECT row_to_json(t)::text FROM "{table}" t').fetchall()
        ]


@pytest.mark.usefixtures("running_clock")
def test_no_secret_in_any_output_or_file(bitbar, workdir, tmp_path, monkeypatch, reconcile_db):
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("PASS_MAIN", PASSPHRASE)
    app, tests = tmp_path / "app.apk", tmp_path / "tests.apk"
    app.write_bytes(build_apk(text_manifest("com.labform.sample", "1.0")))
    tests.write_bytes(build_apk(text_manifest("com.labform.sample.test", "1.0", launcher=False)))
    folder = workdir.path / "plan"
    outputs = "outputs:\n  project: ${bitbar_project.checkout.id}\n"
    run = RUN.replace("APP", str(app)).replace("TESTS", str(tests))
    kit.Repo(folder).commit({"main.yaml": plan_text(block=run + encryption("main")) + outputs})
    workspace = f"shop: {{repo: {folder}, state: {folder / 'labform.state.json'}, policy: {{mode: approve}}}}"
    config = str(kit.write_config(tmp_path, reconcile_db, workspace, RECONCILIATIONS))
    plan, saved, report = str(folder), str(workdir.path / "tfplan"), str(tmp_path / "report" / "report.html")
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
        ("report", plan, "-o", report),
        ("force-unlock", plan),
        ("graph", plan),
        ("destroy", plan, "-auto-approve"),
        # approve: the reconcile keeps its sealed plan (in PostgreSQL too) until approved; the approval
        # re-creates what destroy removed, reading and writing the sealed state.
        ("--log-level", "DEBUG", "reconcile", "now", "shop", "--config", config, "-json"),
        ("reconcile", "approve", "shop", "1", "--config", config),
        ("reconcile", "status", "shop", "--config", config),
        ("reconcile", "rekey", "--config", config),
    ]
    streams = []
    for command in script:
        result = workdir.run(*command)
        assert result.exit_code in (0, 2), (command, result.output)
        streams.append(result.output)
    assert "| `bitbar_run.smoke` |" in (tmp_path / "report" / "report.md").read_text()
    recorded = rows(reconcile_db)
    assert any('"outcome":"applied"' in row for row in recorded), recorded
    assert any('"saved_plan":{"sealed":' in row for row in recorded), recorded
    assert not any("Checkout" in row for row in recorded)
    secrets = (PASSPHRASE.encode(), BITBAR_KEY.encode())
    for text in streams + recorded:
        assert not any(secret in text.encode() for secret in secrets)
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert summary in written and folder / "labform.state.json.highwater" in written
    for path in written:
        content = path.read_bytes()
        assert not any(secret in content for secret in secrets), path
    reconciled_plan = tmp_path / ".labform-reconcile" / "plans" / "shop-1.plan.json"
    for own in (folder / "labform.state.json", folder / "labform.state.json.highwater", saved, reconciled_plan):
        assert b"Checkout" not in Path(own).read_bytes(), own
