"""One reconcile of one workspace, through the CLI: a real git repository, the Bitbar emulator
over HTTP, reconciliations and state in a throwaway PostgreSQL database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fixtures.clouds import RunningBitbar
from tests.functional import test_reconcile_kit as kit
from tests.functional.test_reconcile_kit import QUICKSTART, write_config

reconcile_db, repo = kit.reconcile_db, kit.repo  # the kit's fixtures, used here

pytestmark = pytest.mark.usefixtures("bitbar")


@pytest.fixture
def cloud_env(bitbar: RunningBitbar, monkeypatch) -> str:
    """The emulator's address and key given to the workspace by its own ``env:``, not the process's."""
    env = f"env: {{BITBAR_URL: '{os.environ['BITBAR_URL']}', BITBAR_API_KEY: '{os.environ['BITBAR_API_KEY']}'}}"
    monkeypatch.delenv("BITBAR_URL")
    monkeypatch.delenv("BITBAR_API_KEY")
    return env


def _config(tmp_path, db, repo, cloud_env, mode="auto", rules="", extra=""):
    workspaces = f"""\
    shop:
      repo: {repo.path}
      path: quickstart
      every: 5m
      {cloud_env}
      policy:
        mode: {mode}
{rules}"""
    return write_config(tmp_path, db, workspaces, extra)


def _now(workdir, config, name="shop", *extra):
    return workdir.run("reconcile", "now", name, "--config", str(config), "-json", *extra)


def _record(result) -> dict:
    assert result.stdout, result.output
    return json.loads(result.stdout)


def _rename_group_by_hand(bitbar: RunningBitbar, name: str) -> None:
    """A hand edit in the cloud, through its API (the README's curl)."""
    with bitbar.api() as api:
        group = api.get("/api/v2/me/device-groups").json()["data"][0]
        answer = api.post(f"/api/v2/me/device-groups/{group['id']}", data={"name": name})
        assert answer.is_success, answer.text


def test_auto_applies_then_finds_nothing_and_status_shows_both(workdir, tmp_path, reconcile_db, repo, cloud_env):
    config = _config(tmp_path, reconcile_db, repo, cloud_env)
    first = _now(workdir, config)
    assert first.exit_code == 0, first.output
    applied = _record(first)
    assert (applied["outcome"], applied["summary"]["add"], applied["commit"]) == (
        "applied",
        4,
        repo.git("rev-parse", "HEAD"),
    )
    assert {a["result"] for a in applied["applied"]} == {"done"} and len(applied["applied"]) == 4
    second = _record(_now(workdir, config))
    assert (second["outcome"], second["summary"]["has_changes"], second["report"]) == ("ok", False, None)
    status = workdir.run("reconcile", "status", "shop", "--config", str(config), "-json")
    document = json.loads(status.stdout)
    assert document["workspaces"]["shop"]["id"] == second["id"]
    assert [h["outcome"] for h in document["history"]] == ["ok", "applied"]
    text = workdir.run("reconcile", "status", "--config", str(config))
    assert text.exit_code == 0 and text.stdout.startswith(f"#{second['id']} shop: ok at ")


def test_a_hand_edit_is_drift_with_old_and_new_then_auto_repairs_it(
    workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar
):
    config = _config(tmp_path, reconcile_db, repo, cloud_env, mode="detect")
    _config(tmp_path, reconcile_db, repo, cloud_env, mode="auto")
    assert _record(_now(workdir, config))["outcome"] == "applied"
    _rename_group_by_hand(bitbar, "Edited on Tuesday")
    _config(tmp_path, reconcile_db, repo, cloud_env, mode="detect")
    found = _record(_now(workdir, config))
    assert found["outcome"] == "drift"
    assert found["drift"] == [
        {
            "address": "bitbar_device_group.smoke",
            "reason": "changed outside labform",
            "attributes": {"name": {"old": "Smoke phones", "new": "Edited on Tuesday"}},
        }
    ]
    report = Path(found["report"]).read_text()
    assert "#### `bitbar_device_group.smoke` (changed outside labform)" in report
    assert '| `name` | `"Smoke phones"` | `"Edited on Tuesday"` |' in report
    assert "**Plan:** 0 to add, 1 to change, 0 to destroy." in report
    _config(tmp_path, reconcile_db, repo, cloud_env, mode="auto")
    assert _record(_now(workdir, config))["outcome"] == "applied"
    with bitbar.api() as api:
        assert api.get("/api/v2/me/device-groups").json()["data"][0]["displayName"] == "Smoke phones"
    assert _record(_now(workdir, config))["outcome"] == "ok"


def test_approve_applies_the_saved_plan_and_refuses_a_stale_one(
    workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar
):
    config = _config(tmp_path, reconcile_db, repo, cloud_env, mode="approve")
    older = _record(_now(workdir, config))
    newer = _record(_now(workdir, config))
    assert (older["outcome"], newer["outcome"]) == ("awaiting approval", "awaiting approval")
    assert not bitbar.app.store.data["projects"]  # nothing applied while waiting
    approved = workdir.run("reconcile", "approve", "shop", str(newer["id"]), "--config", str(config))
    assert approved.exit_code == 0, approved.output
    assert " shop: applied at " in approved.stdout
    stale = workdir.run("reconcile", "approve", "shop", str(older["id"]), "--config", str(config))
    assert stale.exit_code == 1
    assert "is stale: state moved from serial 0 to 1" in stale.stderr  # as 'apply FILE' refuses it
    assert "run 'labform plan' again" in stale.stderr
    again = workdir.run("reconcile", "approve", "shop", str(newer["id"]), "--config", str(config))
    assert again.exit_code == 1 and "was approved already" in again.stderr
    assert len(bitbar.app.store.data["projects"]) == 1


def test_a_refused_stale_approval_is_not_consumed_and_a_fresh_plan_is_approvable(
    workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar
):
    config = _config(tmp_path, reconcile_db, repo, cloud_env, mode="approve")
    older, newer = _record(_now(workdir, config)), _record(_now(workdir, config))
    assert workdir.run("reconcile", "approve", "shop", str(newer["id"]), "--config", str(config)).exit_code == 0
    stale = workdir.run("reconcile", "approve", "shop", str(older["id"]), "--config", str(config), "-json")
    assert stale.exit_code == 1
    refused = _record(stale)
    assert refused["outcome"] == "refused"  # a verdict on the plan, recorded as such: not 'failed', no backoff
    assert "is stale: state moved from serial 0 to 1" in refused["error"]
    assert "for a fresh plan run 'labform reconcile now shop'" in refused["error"]
    history = json.loads(workdir.run("reconcile", "status", "shop", "--config", str(config), "-json").stdout)
    by_id = {item["id"]: item for item in history["history"]}
    assert (by_id[older["id"]]["approved_in"], by_id[older["id"]]["refused_in"]) == (None, refused["id"])
    assert by_id[older["id"]]["awaiting_approval"] is False
    again = workdir.run("reconcile", "approve", "shop", str(older["id"]), "--config", str(config))
    assert again.exit_code == 1
    assert f"was refused as stale (in #{refused['id']})" in again.stderr and "approved already" not in again.stderr
    repo.commit({"quickstart/main.yaml": QUICKSTART.read_text().replace("Smoke phones", "Smoke tablets")}, "rename")
    fresh = _record(_now(workdir, config))
    assert (fresh["outcome"], fresh["awaiting_approval"]) == ("awaiting approval", True)
    approved = workdir.run("reconcile", "approve", "shop", str(fresh["id"]), "--config", str(config), "-json")
    assert approved.exit_code == 0 and _record(approved)["outcome"] == "applied", approved.output
    with bitbar.api() as api:
        assert api.get("/api/v2/me/device-groups").json()["data"][0]["displayName"] == "Smoke tablets"


def test_auto_outside_its_rules_waits_for_approval_naming_the_rule(
    workdir, tmp_path, reconcile_db, repo, cloud_env, bitbar
):
    rules = """\
        rules:
          no_deletes: 'resource_changes.all(c, !("delete" in c.change.actions))'
          at_most_four: 'size(resource_changes.filter(c, c.change.actions != ["no-op"])) <= 4'
"""
    config = _config(tmp_path, reconcile_db, repo, cloud_env, rules=rules)
    assert _record(_now(workdir, config))["outcome"] == "applied"
    text = QUICKSTART.read_text()
    without_parameter = text[: text.index("  bitbar_config_parameter.devel:")] + text[text.index("data:") :]
    commit = repo.commit({"quickstart/main.yaml": without_parameter}, "drop the parameter")
    held = _record(_now(workdir, config))
    assert (held["outcome"], held["commit"], held["policy"]["broken"]) == ("awaiting approval", commit, ["no_deletes"])
    assert held["awaiting_approval"] is True
    assert "Policy rules that did not hold: `no_deletes`" in Path(held["report"]).read_text()
    assert not [r for r in bitbar.app.log.all() if r.method == "DELETE"]  # held, not applied


def test_failures_are_recorded_and_never_stop_another_workspace(workdir, tmp_path, reconcile_db, repo, cloud_env):
    repo.commit({"broken/main.yaml": "resources:\n  bitbar_project.x: {name: X, type: ANDROID, nmae: y}\n"})
    workspaces = f"""\
    shop:
      repo: {repo.path}
      path: quickstart
      {cloud_env}
    broken:
      repo: {repo.path}
      path: broken
    gone:
      repo: {tmp_path / "no-such-repo"}
    notaplan:
      repo: {repo.path}
      path: nothing-here
"""
    config = write_config(tmp_path, reconcile_db, workspaces)
    broken = _now(workdir, config, "broken")
    assert broken.exit_code == 1 and _record(broken)["outcome"] == "failed"
    assert "broken/main.yaml:2:46: bitbar_project.x: unknown field 'nmae'" in _record(broken)["error"]
    gone = _record(_now(workdir, config, "gone"))
    assert gone["outcome"] == "failed" and gone["error"].startswith("git fetch failed")
    notaplan = _record(_now(workdir, config, "notaplan"))
    assert (
        "labform.reconcile.yaml:14:5: workspaces.notaplan.path: no plan file or folder at 'nothing-here'"
        in notaplan["error"]
    )
    assert _record(_now(workdir, config, "shop"))["outcome"] == "drift"  # detect: the default policy
    status = json.loads(workdir.run("reconcile", "status", "--config", str(config), "-json").stdout)
    assert {name: item["outcome"] for name, item in status["workspaces"].items()} == {
        "shop": "drift",
        "broken": "failed",
        "gone": "failed",
        "notaplan": "failed",
    }


def test_an_unknown_workspace_is_refused(workdir, tmp_path, reconcile_db, repo, cloud_env):
    config = _config(tmp_path, reconcile_db, repo, cloud_env)
    result = _now(workdir, config, "shp")
    assert result.exit_code == 1 and "no workspace 'shp'" in result.stderr and "did you mean 'shop'" in result.stderr


def test_no_secret_reaches_the_record_or_the_report(workdir, tmp_path, reconcile_db, repo, cloud_env):
    config = _config(tmp_path, reconcile_db, repo, cloud_env)
    key = cloud_env.split("BITBAR_API_KEY: '")[1].split("'")[0]
    item = _now(workdir, config)
    assert key not in item.stdout and key not in Path(_record(item)["report"]).read_text()
