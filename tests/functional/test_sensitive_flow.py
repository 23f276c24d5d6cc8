"""A value built from a secret is a secret: a sensitive variable written into an argument the cloud
does not call sensitive is shown as (sensitive), kept as a fingerprint, and still diffs as unchanged."""

from __future__ import annotations

import json

from tests.conftest import BITBAR_PROVIDER, state_of

OWNER = "mallory-owner-7731"
PLAN = (
    BITBAR_PROVIDER
    + """
variables:
  owner: {type: string, sensitive: true}
resources:
  bitbar_project.checkout:
    name: Checkout flow
    type: ANDROID
    description: "owned by ${var.owner}"
"""
)


def _var(value: str = OWNER) -> tuple[str, str]:
    return ("-var", f"owner={value}")


def test_a_sensitive_variable_in_a_plain_argument_is_kept_and_shown_as_a_secret(bitbar, workdir):
    workdir.write(PLAN)
    planned = workdir.plan(*_var())
    assert planned.exit_code == 0, planned.output
    assert "description" in planned.stdout and "(sensitive)" in planned.stdout
    as_json = workdir.plan(*_var(), "-json")
    change = next(c for c in json.loads(as_json.stdout)["resource_changes"] if c["type"] == "bitbar_project")
    assert change["change"]["after_sensitive"] == {"description": True}
    assert change["change"]["after"]["description"] is None

    applied = workdir.apply(*_var())
    assert applied.exit_code == 0, applied.output
    # The cloud holds the real text; labform's state only its fingerprint.
    remote = [p for p in bitbar.app.store.data["projects"].values() if p["name"] == "Checkout flow"]
    assert remote and remote[0]["description"] == f"owned by {OWNER}"
    stored = next(iter(state_of(workdir)["resources"].values()))["attributes"]
    assert stored["description"].startswith("scrypt:")
    assert OWNER not in workdir.state_file.read_text()

    shown = workdir.run("state", "show", "bitbar_project.checkout", "-state", str(workdir.state_file))
    assert shown.exit_code == 0, shown.output
    assert OWNER not in shown.output and "(sensitive)" in shown.output
    shown_json = workdir.run("show", "-json", str(workdir.state_file))
    assert OWNER not in shown_json.output

    again = workdir.plan(*_var(), "-detailed-exitcode")
    assert again.exit_code == 0, again.output  # unchanged secret, unchanged plan

    changed = workdir.plan(*_var("trent-owner-9902"), "-detailed-exitcode")
    assert changed.exit_code == 2, changed.output
    assert "trent-owner-9902" not in changed.output and OWNER not in changed.output


def test_an_output_built_from_a_sensitive_variable_is_kept_as_a_fingerprint(bitbar, workdir):
    workdir.write(PLAN + 'outputs:\n  owner_line: "owner ${var.owner}"\n')
    applied = workdir.apply(*_var())
    assert applied.exit_code == 0, applied.output
    assert OWNER not in applied.output
    assert OWNER not in workdir.state_file.read_text()
    assert state_of(workdir)["outputs"]["owner_line"].startswith("scrypt:")
    shown = workdir.run("output", "-json", "-state", str(workdir.state_file))
    assert json.loads(shown.stdout)["owner_line"]["sensitive"] is True
    planned = json.loads(workdir.plan(*_var(), "-json").stdout)
    assert planned["variables"]["owner"] == {"value": None}
    assert planned["output_changes"]["owner_line"]["after_sensitive"] is True
    assert planned["output_changes"]["owner_line"]["after"] is None
    serial = state_of(workdir)["serial"]
    again = workdir.apply(*_var())
    assert again.exit_code == 0 and "No changes" in again.stdout, again.output
    assert state_of(workdir)["serial"] == serial  # the kept fingerprint still matches: nothing rewritten
