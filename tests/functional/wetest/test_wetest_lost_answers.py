"""A submit whose answer is lost: the test is found on the chosen devices (Get Devices' current test_id), never sent twice."""

from __future__ import annotations

import re

import pytest

from tests.functional.wetest.conftest import resources_of
from tests.functional.wetest.test_wetest_tests import write_plan

# One request in a hundred faulted, drawn from this seed: the submit (the first POST of its shape) is one.
SEED, RATE = 18, 0.01


def _fault_the_next_apply(wetest, kind: str) -> None:
    """The submit meets ``kind`` (each test checks it did); hardly any other request does."""
    wetest.app.options.failure_kinds, wetest.app.options.failure_rate, wetest.app.options.seed = (kind,), RATE, SEED


def _uploaded_without_a_test(workdir) -> None:
    """The app and script in place (no faults), the plan then naming the test too."""
    write_plan(workdir)
    text = workdir.path.joinpath("main.yaml").read_text()
    test_block = text[text.index("  wetest_test.smoke:") :]
    workdir.write(text.replace(test_block, ""))
    assert workdir.apply().exit_code == 0
    workdir.write(text)


@pytest.mark.parametrize("kind", ["drop-after", "500-after", "malformed"])
def test_a_test_whose_submit_answer_was_lost_is_found_on_its_devices(kind, wetest, workdir):
    """The cloud made the test but its answer was lost: it is recorded from the devices, submitted once."""
    _uploaded_without_a_test(workdir)
    _fault_the_next_apply(wetest, kind)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert "the submit's answer was lost" in result.output
    stored = list(wetest.app.store.data["tests"])
    assert len(wetest.posts("/tests/automation")) == 1 and stored == [
        str(resources_of(workdir)["wetest_test.smoke"]["id"])
    ]
    wetest.app.options.failure_rate = 0.0
    assert workdir.plan("--detailed-exitcode").exit_code == 0


def test_a_submit_refused_before_acting_is_not_sent_again(wetest, workdir):
    """Seeing no new test is no proof there is none (it may be queued): the change fails, nothing is resent."""
    _uploaded_without_a_test(workdir)
    _fault_the_next_apply(wetest, "500")
    result = workdir.apply()
    assert result.exit_code == 1
    assert "no new test on the chosen devices; it may have been created" in result.output
    assert len(wetest.posts("/tests/automation")) == 1 and wetest.app.store.data["tests"] == {}


def test_a_refresh_whose_reads_keep_failing_is_an_error_never_gone(wetest, workdir):
    """Every read refused (429, Retry-After 0, so quickly): the plan fails naming the read, and plans no second script or test."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    wetest.app.options.failure_kinds, wetest.app.options.failure_rate = ("429",), 1.0
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 1 and "will be created" not in plan.output, plan.output
    assert re.search(r"wetest: read (script|test status|app) failed \(429\)", plan.output), plan.output
