"""Saved plans (plan -out FILE): applied exactly as shown, refused once state or plan files moved."""

from __future__ import annotations

import json
import os
import stat

import pytest

from labform.engine import runner
from labform.engine.errors import PlanRefusedError
from tests.engine.conftest import options

PLAN = """
resources:
  memory_thing.base:
    name: base
    size: ${var.size}
  memory_thing.child:
    name: child
    parent: ${memory_thing.base.id}
variables:
  size: 1
"""


def test_saved_plan_applies_exactly_what_it_showed(lab):
    """A plan saved with -out and applied later creates the objects it listed, references resolved at apply."""
    lab.write(PLAN)
    saved = lab.root / "tfplan"
    planned = lab.plan(out=saved)
    assert [c.action.value for c in planned.plan.changes] == ["create", "create"]
    assert lab.store.ops() == []

    outcome = lab.apply(plan_file=saved)
    assert outcome.result.ok and outcome.result.added == 2
    assert lab.store.names() == ["base", "child"]
    assert lab.store.named("child")["parent"] == lab.store.named("base")["id"]


def test_saved_plan_is_refused_when_state_moved_since(lab):
    """Another apply between plan -out and apply FILE moves the serial, so the saved plan is refused and nothing runs."""
    lab.write(PLAN)
    saved = lab.root / "tfplan"
    lab.plan(out=saved)
    lab.apply_ok()
    serial = lab.state()["serial"]
    lab.store.forget_calls()

    with pytest.raises(PlanRefusedError) as error:
        lab.apply(plan_file=saved)
    assert str(error.value) == (
        f"saved plan {saved} is stale: state moved from serial 0 to {serial} since it was made; run 'labform plan' again"
    )
    assert lab.store.ops() == []
    assert lab.state()["serial"] == serial


def test_saved_plan_can_be_applied_only_once(lab):
    """Applying a saved plan moves the state, so applying the same file again is refused."""
    lab.write(PLAN)
    saved = lab.root / "tfplan"
    lab.plan(out=saved)
    lab.apply(plan_file=saved)
    with pytest.raises(PlanRefusedError, match="is stale: state moved from serial 0 to "):
        lab.apply(plan_file=saved)
    assert lab.store.names() == ["base", "child"]


def test_saved_plan_is_refused_when_a_plan_file_changed(lab):
    """Editing a plan file after plan -out makes the saved plan stale, naming the file."""
    path = lab.write(PLAN)
    saved = lab.root / "tfplan"
    lab.plan(out=saved)
    lab.write(PLAN.replace("name: child", "name: kid"))

    with pytest.raises(PlanRefusedError) as error:
        lab.apply(plan_file=saved)
    assert str(error.value) == f"saved plan {saved} is stale: plan files changed since it was made ({path})"
    assert lab.store.names() == []


def test_saved_plan_is_refused_when_a_plan_file_was_added(lab):
    """A new file in the plan folder also makes the saved plan stale."""
    lab.write(PLAN)
    saved = lab.root / "tfplan"
    lab.plan(out=saved)
    extra = lab.plan_dir / "more.yaml"
    extra.write_text("resources:\n  memory_thing.more: {name: more}\n")

    with pytest.raises(PlanRefusedError, match=rf"plan files changed since it was made \({extra}\)"):
        lab.apply(plan_file=saved)
    assert lab.store.names() == []


def test_saved_plan_keeps_the_variables_it_was_made_with(lab):
    """The variables given at plan time are the ones apply FILE uses, whatever the workspace says then."""
    lab.write(PLAN)
    saved = lab.root / "tfplan"
    ws = lab.workspace()
    ws.variables = {"size": 7}
    runner.plan(ws, options(), saved)

    lab.apply(plan_file=saved)
    assert lab.store.named("base")["size"] == 7


def test_file_that_is_not_a_saved_plan_is_refused(lab):
    """Any other JSON, or no JSON at all, is refused with a clear message."""
    lab.write(PLAN)
    other = lab.root / "other.json"
    other.write_text(json.dumps({"kind": "something-else"}))
    with pytest.raises(PlanRefusedError, match="is not a labform saved plan"):
        lab.apply(plan_file=other)
    other.write_text("{not json")
    with pytest.raises(PlanRefusedError, match="cannot read saved plan"):
        lab.apply(plan_file=other)
    assert lab.store.calls == []


def test_saved_plan_holds_no_secret_and_is_owner_only(lab):
    """The saved plan file keeps sensitive arguments as fingerprints only and has mode 0600."""
    lab.write("""
        resources:
          memory_thing.web: {name: web, secret: saved-plan-secret-77}
    """)
    saved = lab.root / "tfplan"
    lab.plan(out=saved)
    assert "saved-plan-secret-77" not in saved.read_text()
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600

    lab.apply(plan_file=saved)
    assert lab.store.named("web")["secret"] == "saved-plan-secret-77"


def test_saved_update_sends_a_changed_secret_and_ids_known_only_at_apply(lab):
    """An update from a saved plan sends the new secret (the file holds its fingerprint) and the id
    of an object replaced in the same apply (unknown in the file)."""
    lab.write("""
        resources:
          memory_thing.base: {name: base, kind: small}
          memory_thing.web: {name: web, secret: old-secret-1, parent: "${memory_thing.base.id}"}
    """)
    lab.apply_ok()
    lab.write("""
        resources:
          memory_thing.base: {name: base, kind: large}
          memory_thing.web: {name: web, secret: new-secret-2, parent: "${memory_thing.base.id}"}
    """)
    saved = lab.root / "tfplan"
    planned = lab.plan(out=saved).plan
    assert [c.action.value for c in planned.changes] == ["delete-then-create", "update"]
    assert "new-secret-2" not in saved.read_text()

    assert lab.apply(plan_file=saved).result.ok
    web, base = lab.store.named("web"), lab.store.named("base")
    assert (web["secret"], web["parent"], base["kind"]) == ("new-secret-2", base["id"], "large")
