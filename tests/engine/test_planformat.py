"""The saved plan's own format (engine/planformat.py): every field read back as written, no secret in clear,
and a file of another format version refused with what to do, never misread."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labform.engine import planfile, planformat, render, runner, secrets
from labform.engine.addresses import Address
from labform.engine.changes import Action, Notice, Plan, ResourceChange
from labform.engine.errors import PlanRefusedError
from labform.engine.planformat import FORMAT_VERSION, SavedPlan
from labform.engine.references import UNKNOWN
from tests.engine.conftest import options

SECRET = "format-secret-4242"


def _every_action() -> Plan:
    """One change per action, every field set, unknowns at the top level and nested in lists and objects."""
    fingerprint = secrets.fingerprint(SECRET)
    before = {"id": "t-1", "name": "old", "size": 1, "secret": fingerprint, "tags": ["a"], "meta": {"k": [1, 2]}}
    changes = [
        ResourceChange(
            Address.parse("memory_thing.created"),
            Action.CREATE,
            None,
            {"name": "new", "parent": UNKNOWN, "tags": ["x", UNKNOWN], "meta": {"deep": [UNKNOWN]}, "id": UNKNOWN},
            after_unknown={"parent", "tags", "meta", "id"},
            sensitive={"secret"},
            reason="gone from the cloud (deleted outside labform)",
            note="~ 12 credits",
        ),
        ResourceChange(
            Address.parse("memory_thing.updated"),
            Action.UPDATE,
            before,
            {**before, "size": 5, "secret": secrets.fingerprint("another")},
            sensitive={"secret"},
            reason="a run is still going",
            remote_id="t-1",
        ),
        ResourceChange(
            Address.parse("memory_thing.replaced"),
            Action.DELETE_THEN_CREATE,
            before,
            {"name": "old", "kind": "big", "id": UNKNOWN},
            after_unknown={"id"},
            requires_replace=["kind"],
            sensitive={"secret"},
            remote_id="t-1",
        ),
        ResourceChange(
            Address.parse("memory_thing.tainted"),
            Action.CREATE_THEN_DELETE,
            before,
            {**before, "id": UNKNOWN},
            after_unknown={"id"},
            requires_replace=["(tainted)"],
            remote_id="t-1",
        ),
        ResourceChange(
            Address.parse("memory_thing.deleted"), Action.DELETE, before, None, reason="not in the plan any more"
        ),
        ResourceChange(Address.parse("memory_thing.same"), Action.NOOP, before, dict(before), remote_id="t-1"),
        ResourceChange(
            Address.parse("data.memory_lookup.late"),
            Action.READ,
            None,
            {"name": "${memory_thing.created.id}"},
            after_unknown={"value", "values"},
        ),
        ResourceChange(
            Address.parse("memory_bucket.adopted"), Action.ADOPT, None, {"name": "b", "id": "b-9"}, remote_id="b-9"
        ),
    ]
    return Plan(
        changes,
        state_serial=7,
        state_lineage="lineage-1",
        file_hashes={"/plans/main.yaml": "sha256:abc"},
        notices=[Notice(Address.parse("memory_thing.created"), "an object with name='new' already exists")],
        destroy=True,
        refresh_only=True,
    )


def _saved(plan: Plan, tmp_path: Path) -> Path:
    out = tmp_path / "tfplan"
    planfile.write(out, SavedPlan(plan, tmp_path / "plan", {"size": 3, "tags": ["a"]}, 4))
    return out


def test_every_field_of_every_action_is_read_back_as_written(tmp_path):
    """Action, before, after (unknowns where they were), sensitivity, replace reasons, notes, notices, options."""
    plan = _every_action()
    read = planfile.read(_saved(plan, tmp_path))
    assert read.plan == plan
    assert {c.action for c in read.plan.changes} == set(Action)
    assert read.plan.changes[0].after["tags"][1] is UNKNOWN
    assert (read.plan_path, read.variables, read.parallelism) == (tmp_path / "plan", {"size": 3, "tags": ["a"]}, 4)


def test_a_plan_made_by_the_planner_is_read_back_as_it_was_made(lab):
    """Creates with references still unknown, an update, a replace and a delete survive the file unchanged."""
    lab.write("""
        resources:
          memory_thing.base: {name: base, kind: small}
          memory_thing.grow: {name: grow, size: 1, secret: planner-secret-11}
          memory_thing.gone: {name: gone}
    """)
    lab.apply_ok()
    lab.write("""
        resources:
          memory_thing.base: {name: base, kind: large}
          memory_thing.grow: {name: grow, size: 2, secret: planner-secret-11}
          memory_thing.child: {name: child, parent: "${memory_thing.base.id}", tags: ["${memory_thing.base.id}"]}
    """)
    saved = lab.root / "tfplan"
    planned = lab.plan(out=saved).plan
    assert {str(c.address): c.action.value for c in planned.changes} == {
        "memory_thing.base": "delete-then-create",
        "memory_thing.grow": "update",
        "memory_thing.child": "create",
        "memory_thing.gone": "delete",
    }
    assert planfile.read(saved).plan == planned
    assert "planner-secret-11" not in saved.read_text()


def test_the_file_holds_no_secret_even_if_a_plan_had_one_in_clear(tmp_path):
    """A sensitive value is written as a fingerprint of itself, one partly unknown as unknown: never in clear."""
    change = ResourceChange(
        Address.parse("memory_thing.web"),
        Action.CREATE,
        None,
        {"name": "web", "secret": SECRET, "tokens": [SECRET, UNKNOWN]},
        sensitive={"secret", "tokens"},
    )
    out = _saved(Plan([change], 0, "l", {}), tmp_path)
    assert SECRET not in out.read_text()
    after = planfile.read(out).plan.changes[0].after
    assert secrets.matches(SECRET, after["secret"])
    assert after["tokens"] is UNKNOWN


def test_the_body_is_not_the_json_view(tmp_path):
    """The file carries its own format version and encoding, whatever plan -json prints."""
    body = json.loads(_saved(_every_action(), tmp_path).read_text())
    assert body["format_version"] == FORMAT_VERSION == 1
    assert "resource_changes" not in body["plan"]
    assert body["plan"]["changes"][0]["after"]["unknown"] == [["parent"], ["tags", 1], ["meta", "deep", 0], ["id"]]


def _legacy_file(tmp_path: Path) -> Path:
    """What labform wrote before the format had a version: the JSON view under "plan"."""
    old = tmp_path / "old-tfplan"
    plan = {**render.plan_to_dict(_every_action()), "format_version": "1.0"}
    old.write_text(
        json.dumps(
            {"kind": planformat.KIND, "plan_path": str(tmp_path), "variables": {}, "parallelism": None, "plan": plan}
        )
    )
    return old


def _newer_file(tmp_path: Path) -> Path:
    newer = tmp_path / "new-tfplan"
    body = json.loads(_saved(_every_action(), tmp_path).read_text())
    newer.write_text(json.dumps({**body, "format_version": FORMAT_VERSION + 1, "plan": {"shape": "unknown to us"}}))
    return newer


def test_a_file_without_format_version_is_refused_saying_to_plan_again(tmp_path):
    old = _legacy_file(tmp_path)
    assert planfile.is_saved_plan(old)
    with pytest.raises(PlanRefusedError) as error:
        planfile.read(old)
    assert str(error.value) == (
        f"saved plan {old} was written by an older labform, in a format this one does not read: "
        "run 'labform plan' again"
    )


def test_a_file_of_a_newer_format_is_refused_saying_to_upgrade(tmp_path):
    newer = _newer_file(tmp_path)
    with pytest.raises(PlanRefusedError) as error:
        planfile.read(newer)
    assert str(error.value) == (
        f"saved plan {newer} was written by a newer labform (format {FORMAT_VERSION + 1}); "
        f"this labform reads format {FORMAT_VERSION}: upgrade labform or plan again"
    )


def test_a_damaged_file_of_this_format_is_refused(tmp_path):
    """A body of this version with a field missing is refused, never half read."""
    out = _saved(_every_action(), tmp_path)
    body = json.loads(out.read_text())
    del body["plan"]["changes"][1]["action"]
    out.write_text(json.dumps(body))
    with pytest.raises(PlanRefusedError, match=r"is damaged \(KeyError\('action'\)\): run 'labform plan' again"):
        planfile.read(out)


def _apply_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labform.engine", "apply", str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (_legacy_file, "was written by an older labform, in a format this one does not read: run 'labform plan' again"),
        (_newer_file, f"(format {FORMAT_VERSION + 1}); this labform reads format {FORMAT_VERSION}: upgrade labform"),
    ],
    ids=["no-format-version", "newer-format"],
)
def test_apply_of_a_file_of_another_format_exits_1_with_the_reason(tmp_path, make, message):
    """`labform apply FILE` prints one Error line and exits 1: no traceback, no state touched."""
    path = make(tmp_path)
    done = _apply_cli(path)
    assert done.returncode == 1, done
    assert done.stderr.startswith(f"Error: saved plan {path} ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "labform.state.json").exists()


def test_a_secret_variable_is_never_written_and_must_be_given_again_to_apply_the_file(lab):
    """A --var that feeds a sensitive argument is kept in the file as a fingerprint only; apply FILE
    refuses without it or with another value, and applies exactly the plan once it is given again."""
    lab.write("""
        variables:
          token: ""
          size: 1
        resources:
          memory_thing.web: {name: web, size: "${var.size}", secret: "${var.token}"}
    """)

    def workspace(**variables: str) -> runner.Workspace:
        return runner.Workspace(lab.plan_dir, state=str(lab.state_path), variables=variables)

    saved = lab.root / "tfplan"
    runner.plan(workspace(token="var-secret-7731", size="2"), options(), saved)
    body = saved.read_text()
    assert "var-secret-7731" not in body
    assert json.loads(body)["variables"]["size"] == "2"

    with pytest.raises(PlanRefusedError, match="secret variable 'token'.*give it again"):
        runner.apply(workspace(), options(), saved)
    with pytest.raises(PlanRefusedError, match="'token' given now is not the one"):
        runner.apply(workspace(token="another-secret-1"), options(), saved)
    assert lab.store.names() == []

    outcome = runner.apply(workspace(token="var-secret-7731"), options(), saved)
    assert outcome.ok
    assert lab.store.named("web")["secret"] == "var-secret-7731"
    assert lab.store.named("web")["size"] == 2
