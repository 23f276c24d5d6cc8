"""A submit whose answer is lost and whose test is not seen on the devices holds every apply until
``labform state resolve`` says what became of it: never a second paid test on a guess."""

from __future__ import annotations

import json

import pytest

from labform.providers.emulation import Clock
from tests.functional.wetest.conftest import resources_of
from tests.functional.wetest.test_wetest_lost_answers import _fault_the_next_apply, _uploaded_without_a_test

ADDRESS = "wetest_test.smoke"


@pytest.fixture
def tests_end_at_once(emulator_options):
    """Virtual time races: a test has ended (and left its devices) before the look-up for it reads them."""
    emulator_options.clock = Clock(speed=1e7)


def _unresolved(wetest, workdir, kind: str):
    _uploaded_without_a_test(workdir)
    _fault_the_next_apply(wetest, kind)
    first = workdir.apply()
    wetest.app.options.failure_rate = 0.0
    assert first.exit_code == 1, first.output
    assert f"labform state resolve {ADDRESS} --id ID" in first.output
    assert f"labform state resolve {ADDRESS} --not-created" in first.output
    return first


def test_a_lost_submit_holds_the_plan_and_every_apply_until_resolved_by_id(tests_end_at_once, wetest, workdir):
    """The cloud made the test, the answer was lost, the devices no longer show it: held, then adopted by id."""
    _unresolved(wetest, workdir, "drop-after")
    (test_id,) = wetest.app.store.data["tests"]

    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert f"? {ADDRESS}: outcome unknown since " in plan.stdout
    (held,) = json.loads(workdir.plan("--json").stdout)["unresolved"]
    assert held["address"] == ADDRESS and "no new test on the chosen devices" in held["why"]

    again = workdir.apply()
    assert again.exit_code == 1 and f"labform state resolve {ADDRESS} --id ID" in again.output
    assert len(wetest.posts("/tests/automation")) == 1 and list(wetest.app.store.data["tests"]) == [test_id]

    resolved = workdir.run("state", "resolve", ADDRESS, str(workdir.path), "--id", test_id)
    assert resolved.exit_code == 0, resolved.output
    assert workdir.apply().exit_code == 0
    assert len(wetest.posts("/tests/automation")) == 1
    assert str(resources_of(workdir)[ADDRESS]["id"]) == test_id
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_a_submit_resolved_as_not_created_is_sent_once_more(wetest, workdir):
    """Refused before acting (nothing made): the user says so, and the next apply submits it once."""
    _unresolved(wetest, workdir, "500")
    assert wetest.app.store.data["tests"] == {}
    resolved = workdir.run("state", "resolve", ADDRESS, str(workdir.path), "--not-created")
    assert resolved.exit_code == 0, resolved.output
    assert workdir.apply().exit_code == 0
    assert len(wetest.posts("/tests/automation")) == 2 and len(wetest.app.store.data["tests"]) == 1
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_resolve_needs_exactly_one_answer(wetest, workdir):
    _unresolved(wetest, workdir, "500")
    both = workdir.run("state", "resolve", ADDRESS, str(workdir.path), "--id", "1", "--not-created")
    assert both.exit_code == 1 and "exactly one of --id ID" in both.output
