"""moved: and removed: on a Bitbar emulator: an object renamed into a for_each instance keeps its remote
object (no call but reads), and one removed with destroy: false leaves state and stays in the cloud."""

from __future__ import annotations

import json

from tests.conftest import BITBAR_PROVIDER, state_of

FIRST = BITBAR_PROVIDER + "resources:\n  bitbar_project.shop: {name: Shop, type: ANDROID}\n"
MOVED = (
    BITBAR_PROVIDER
    + """resources:
  bitbar_project.app:
    for_each: [shop]
    name: Shop
    type: ANDROID
moved:
  - from: bitbar_project.shop
    to: bitbar_project.app["shop"]
"""
)
REMOVED = BITBAR_PROVIDER + "removed:\n  - from: bitbar_project.app\n    lifecycle: {destroy: false}\n"


def writes(bitbar) -> list[str]:
    return [f"{r.method} {r.path}" for r in bitbar.app.log.all() if r.method != "GET"]


def test_a_moved_object_keeps_its_remote_object_and_a_removed_one_stays_in_the_cloud(bitbar, workdir):
    workdir.write(FIRST)
    assert workdir.apply().exit_code == 0
    project_id = state_of(workdir)["resources"]["bitbar_project.shop"]["id"]
    bitbar.app.log.clear()

    workdir.write(MOVED)
    planned = workdir.plan("--detailed-exitcode")
    assert planned.exit_code == 2, planned.output  # the move is a change of state
    assert '# bitbar_project.shop has moved to bitbar_project.app["shop"]' in planned.stdout
    assert "Plan: 0 to add, 0 to change, 0 to destroy." in planned.stdout
    document = json.loads(workdir.plan("-json").stdout)
    (change,) = document["resource_changes"]
    assert (change["address"], change["previous_address"]) == ('bitbar_project.app["shop"]', "bitbar_project.shop")
    assert change["change"]["actions"] == ["no-op"]

    assert workdir.apply().exit_code == 0
    resources = state_of(workdir)["resources"]
    assert (
        list(resources) == ['bitbar_project.app["shop"]']
        and resources['bitbar_project.app["shop"]']["id"] == project_id
    )
    assert writes(bitbar) == []
    assert "No changes." in workdir.plan().stdout  # the moved block stays harmless once carried

    workdir.write(REMOVED)
    planned = workdir.plan()
    assert '# bitbar_project.app["shop"] will no longer be managed by labform' in planned.stdout
    assert "0 to destroy, 1 to forget" in planned.stdout
    assert workdir.apply().exit_code == 0
    assert state_of(workdir)["resources"] == {} and writes(bitbar) == []
    assert str(project_id) in {str(p["id"]) for p in bitbar.app.store.data["projects"].values()}


def test_a_move_whose_from_is_still_planned_is_refused_before_any_call(bitbar, workdir):
    workdir.write(FIRST + "moved:\n  - {from: bitbar_project.shop, to: bitbar_project.other}\n")
    planned = workdir.plan()
    assert planned.exit_code == 1 and "bitbar_project.shop is still in the plan" in planned.stderr
    assert "main.yaml:8:6:" in planned.stderr and "Traceback" not in planned.output
    assert bitbar.app.log.all() == []


def test_a_saved_plan_carries_its_moves_to_apply(bitbar, workdir):
    workdir.write(FIRST)
    assert workdir.apply().exit_code == 0
    workdir.write(MOVED)
    saved = str(workdir.path / "moves.plan")
    assert workdir.plan("-out", saved).exit_code == 0
    applied = workdir.run("apply", saved)
    assert applied.exit_code == 0, applied.output
    assert list(state_of(workdir)["resources"]) == ['bitbar_project.app["shop"]']
