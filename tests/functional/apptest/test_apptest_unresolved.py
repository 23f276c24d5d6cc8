"""A testset start whose answer is lost cannot be looked up (nothing lists testsets): every apply
refuses until ``labform state resolve`` says what became of it, so no second paid testset starts."""

from __future__ import annotations

import json

from tests.functional.apptest.conftest import recorded_testset
from tests.functional.apptest.test_apptest_testset import write_plan

ADDRESS = "apptest_testset.smoke"


def _lost_start(apptest, workdir, kind: str) -> None:
    """Every request of the next apply meets ``kind`` (its only request is the start)."""
    write_plan(workdir, "time_limit: 5")
    apptest.app.options.failure_kinds, apptest.app.options.failure_rate = (kind,), 1.0
    first = workdir.apply()
    apptest.app.options.failure_rate = 0.0
    assert first.exit_code == 1, first.output
    assert f"labform state resolve {ADDRESS} --id ID" in first.output
    assert apptest.starts() == 1


def test_a_lost_start_holds_every_apply_until_resolved_by_id(apptest, workdir):
    _lost_start(apptest, workdir, "drop-after")
    (made,) = apptest.stored_testsets()

    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2 and f"? {ADDRESS}: outcome unknown since " in plan.stdout, plan.output
    (held,) = json.loads(workdir.plan("--json").stdout)["unresolved"]
    assert held["address"] == ADDRESS and held["resolve"]["not_created"].endswith("--not-created")

    again = workdir.apply()
    assert again.exit_code == 1 and f"labform state resolve {ADDRESS} --not-created" in again.output
    assert apptest.starts() == 1 and len(apptest.stored_testsets()) == 1

    testset_id = str(made["testset_id"])
    resolved = workdir.run("state", "resolve", ADDRESS, str(workdir.path), "--id", testset_id)
    assert resolved.exit_code == 0, resolved.output
    assert workdir.apply().exit_code == 0
    assert apptest.starts() == 1 and str(recorded_testset(workdir)["id"]) == testset_id
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_a_start_resolved_as_not_created_starts_once_more(apptest, workdir):
    _lost_start(apptest, workdir, "500")
    assert apptest.stored_testsets() == []
    resolved = workdir.run("state", "resolve", ADDRESS, str(workdir.path), "--not-created")
    assert resolved.exit_code == 0, resolved.output
    assert workdir.apply().exit_code == 0
    assert apptest.starts() == 2 and len(apptest.stored_testsets()) == 1
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_an_unknown_id_is_refused_and_the_hold_stays(apptest, workdir):
    _lost_start(apptest, workdir, "drop-after")
    wrong = workdir.run("state", "resolve", ADDRESS, str(workdir.path), "--id", "999999")
    assert wrong.exit_code == 1 and "the cloud has no apptest_testset with id 999999" in wrong.output, wrong.output
    assert workdir.apply().exit_code == 1 and apptest.starts() == 1
