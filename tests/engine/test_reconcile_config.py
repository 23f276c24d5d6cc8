"""labform.reconcile.yaml and policy files: every mistake at file:line:col (exit 1, nothing planned),
the JSON Schema made from the same models, and ``plan -policy FILE`` failing with the rule's name."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from labform.engine.reconcile.config import load_config
from labform.engine.reconcile.policy import judge
from labform.providers import ratelimit

GOOD = """\
database: postgresql://postgres@127.0.0.1:5432/labform
workspaces:
  shop:
    repo: /srv/git/plans.git
    ref: main
    path: plans/shop
    every: 5m
    vars: {language: en_US}
    env: {BITBAR_URL: "http://127.0.0.1:9"}
    policy:
      mode: auto
      rules:
        no_deletes: 'resource_changes.all(c, !("delete" in c.change.actions))'
  lab:
    repo: https://git.example.com/lab.git
    state: lab.state.json
"""


def test_a_good_config_loads_with_defaults(workdir):
    file = workdir.write(GOOD, "labform.reconcile.yaml")
    loaded = load_config(file)
    shop = loaded.workspace("shop")
    assert (shop.every, shop.policy.mode.value, loaded.workspace("lab").every) == (300.0, "auto", 600.0)
    assert loaded.state_of("shop").endswith("/labform?workspace=shop")
    assert loaded.state_of("lab") == str(workdir.path / "lab.state.json")
    result = workdir.run("reconcile", "validate", "--config", str(file))
    assert (result.exit_code, result.stdout.strip()) == (0, "The reconcile configuration is valid: 2 workspaces.")


def _refused(workdir, text: str) -> str:
    file = workdir.write(text, "labform.reconcile.yaml")
    result = workdir.run("reconcile", "validate", "--config", str(file))
    assert result.exit_code == 1, result.output
    assert result.exception is None and "Traceback" not in result.output
    return result.stderr


def test_unknown_key_is_named_at_its_line(workdir):
    err = _refused(workdir, GOOD.replace("    every: 5m", "    evry: 5m"))
    assert "labform.reconcile.yaml:7:5: workspaces.shop: unknown field 'evry'" in err


def test_a_limit_of_the_wrong_type_is_named_at_its_line(workdir):
    err = _refused(workdir, GOOD.replace("every: 5m", "every: soon").replace("mode: auto", "mode: yolo"))
    assert "labform.reconcile.yaml:7:5: workspaces.shop.every: 'soon' is not a duration" in err
    assert "labform.reconcile.yaml:11:7: workspaces.shop.policy.mode: must be 'detect', 'auto' or 'approve'" in err


def test_a_rule_that_is_not_cel_is_named_at_its_line(workdir):
    err = _refused(workdir, GOOD.replace("c.change.actions))", "c.change.actions)"))
    assert "labform.reconcile.yaml:13:9: rule 'no_deletes' is not CEL" in err


def test_two_workspaces_sharing_one_state_are_refused(workdir):
    err = _refused(workdir, GOOD + "  lab2:\n    repo: /x\n    state: ./lab.state.json\n")
    assert "labform.reconcile.yaml:19:5: workspaces.lab2: shares its state with workspace 'lab'" in err


def test_schema_accepts_the_config_and_refuses_what_the_loader_refuses(workdir):
    from ruamel.yaml import YAML

    written = workdir.run("reconcile", "schema", "--out-dir", str(workdir.path))
    assert written.exit_code == 0, written.output
    schema = json.loads((workdir.path / "labform.reconcile.schema.json").read_text())
    good = YAML(typ="safe").load(GOOD)
    jsonschema.validate(good, schema)
    good["workspaces"]["shop"]["evry"] = "5m"
    assert not jsonschema.Draft202012Validator(schema).is_valid(good)


PLAN_DOC = {"resource_changes": [{"change": {"actions": ["delete"]}}, {"change": {"actions": ["create"]}}]}


def test_rules_judge_the_plan_json():
    verdict = judge(
        {
            "no_deletes": 'resource_changes.all(c, !("delete" in c.change.actions))',
            "few": "size(resource_changes) <= 2",
        },
        PLAN_DOC,
    )
    assert (verdict.held, verdict.broken) == (["few"], ["no_deletes"])


PLAN = """\
providers:
  bitbar:
    endpoint: ${env.BITBAR_URL}
    api_key: ${env.BITBAR_API_KEY}
resources:
  bitbar_project.shop: {name: Shop, type: ANDROID}
"""


def _plan_and_policy(workdir) -> tuple[str, Path]:
    """A plan folder, and a policy file beside it (not in it: it would be read as a plan file)."""
    (workdir.path / "plan").mkdir()
    workdir.write(PLAN, "plan/main.yaml")
    return str(workdir.path / "plan"), workdir.path / "policy.yaml"


def test_plan_policy_fails_with_the_rule_name(bitbar, workdir):
    plan, policy = _plan_and_policy(workdir)
    policy.write_text(
        "rules:\n"
        "  no_deletes: 'resource_changes.all(c, !(\"delete\" in c.change.actions))'\n"
        "  no_creates: 'resource_changes.all(c, !(\"create\" in c.change.actions))'\n"
    )
    result = workdir.run("plan", plan, "-policy", str(policy))
    assert result.exit_code == 1, result.output
    assert "Plan: 1 to add" in result.stdout
    assert result.stderr.strip() == "Error: the plan breaks the policy: rule no_creates did not hold"
    policy.write_text("rules:\n  no_deletes: 'resource_changes.all(c, !(\"delete\" in c.change.actions))'\n")
    assert workdir.run("plan", plan, "-policy", str(policy)).exit_code == 0


def test_a_bad_policy_file_stops_plan_before_any_call(bitbar, workdir):
    plan, policy = _plan_and_policy(workdir)
    policy.write_text("rules:\n  broken: 'size(resource_changes'\n")
    before = len(bitbar.app.log.all())
    result = workdir.run("plan", plan, "-policy", str(policy))
    assert result.exit_code == 1 and "policy.yaml:2:3: rule 'broken' is not CEL" in result.stderr
    assert len(bitbar.app.log.all()) == before


def test_a_secret_source_of_the_wrong_shape_is_named_at_its_line(workdir):
    sources = """\
    env:
      BITBAR_API_KEY: {command: [vault], shell: true}
      OTHER: [1]
    env_files:
      - {command: []}
      - 12
"""
    err = _refused(workdir, GOOD.replace('    env: {BITBAR_URL: "http://127.0.0.1:9"}\n', sources))
    assert "labform.reconcile.yaml:10:42: workspaces.shop.env.BITBAR_API_KEY: unknown field 'shell'" in err
    assert (
        "labform.reconcile.yaml:11:7: workspaces.shop.env.OTHER: must be text, {file: PATH} or {command: [PROGRAM, ARGS...]}"
        in err
    )
    assert "labform.reconcile.yaml:13:10: workspaces.shop.env_files.0.command: must have at least 1 item" in err
    assert (
        "labform.reconcile.yaml:14:9: workspaces.shop.env_files.1: must be a path or {command: [PROGRAM, ARGS...]}"
        in err
    )


def test_a_rate_limit_names_a_known_cloud_and_a_positive_rate(workdir):
    limits = "rate_limits:\n  bitbr: {per_second: 5}\n"
    err = _refused(workdir, GOOD.replace("workspaces:\n", limits + "workspaces:\n", 1))
    assert "labform.reconcile.yaml:2:1: rate_limits: no cloud 'bitbr' (did you mean 'bitbar'?)" in err
    err = _refused(workdir, GOOD.replace("workspaces:\n", "rate_limits:\n  bitbar: {per_second: 0}\nworkspaces:\n", 1))
    assert "labform.reconcile.yaml:3:12: rate_limits.bitbar.per_second: must be greater than 0, not 0" in err
    file = workdir.write(
        GOOD.replace("workspaces:\n", "rate_limits:\n  bitbar: {per_second: 2.5}\nworkspaces:\n", 1), "ok.yaml"
    )
    assert load_config(file).config.rate_limits["bitbar"].rate() == ratelimit.Rate(2.5, 2)
