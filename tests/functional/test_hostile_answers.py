"""Hostile answers through the CLI, for every cloud: a list, null or swapped-type answer ends in
"Error: <cloud>: ..." and exit code 1, never an internal error; a server sending a byte at a time
is given up on within the provider block's deadlines, and the state lock is free again at once."""

from __future__ import annotations

import time

import pytest

from tests.conftest import BITBAR_PROVIDER
from tests.functional.apptest.conftest import APPTEST_PROVIDER
from tests.functional.kyaraben.conftest import KYARABEN_PROVIDER
from tests.functional.perfecto.conftest import PERFECTO_PROVIDER
from tests.functional.wetest.conftest import WETEST_PROVIDER

RESHAPED = ("swapped-types", "list-body", "null-body")

# A plan per cloud whose plan reads the cloud (a lookup), and the error's first words.
LOOKUPS = {
    "bitbar": (BITBAR_PROVIDER + "data:\n  bitbar_devices.all: {}\n", "Error: bitbar: list devices failed"),
    "wetest": (WETEST_PROVIDER + "data:\n  wetest_clouds.all: {}\n", "Error: wetest: list clouds failed"),
    "kyaraben": (KYARABEN_PROVIDER + "data:\n  kyaraben_quota.q: {}\n", "Error: kyaraben: read quota failed"),
}


def hostile(running, kind: str) -> None:
    """Every answer of the running emulator from now on is ``kind``."""
    options = running.app.options
    options.failure_rate, options.failure_kinds, options.slow_body_delay = 1.0, (kind,), 0.05


def assert_named_error(result, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert words in result.stderr, result.output
    assert "internal error" not in result.output and result.exception is None


@pytest.mark.parametrize("kind", RESHAPED)
@pytest.mark.parametrize("cloud", sorted(LOOKUPS))
def test_an_answer_of_the_wrong_shape_is_the_clouds_error(cloud, kind, workdir, request):
    running = request.getfixturevalue(cloud)
    plan, words = LOOKUPS[cloud]
    workdir.write(plan)
    hostile(running, kind)
    assert_named_error(workdir.plan(), words)


@pytest.mark.parametrize("kind", RESHAPED)
def test_a_perfecto_report_of_the_wrong_shape_is_the_clouds_error(kind, perfecto, workdir):
    """Once per doc variant of the server (the perfecto fixture's)."""
    workdir.write(PERFECTO_PROVIDER + "data:\n  perfecto_executions.a: {job_name: x}\n")
    hostile(perfecto, kind)
    assert_named_error(workdir.plan(), "Error: perfecto: list executions failed")


@pytest.mark.parametrize("kind", RESHAPED)
def test_an_apptest_status_of_the_wrong_shape_is_the_clouds_error(kind, apptest, workdir):
    """apptest has no lookup: a testset is started, then its status read on the next plan gets the hostile answer."""
    from tests.apps import build_apk

    (workdir.path / "app.apk").write_bytes(build_apk())
    workdir.write(
        APPTEST_PROVIDER + f"resources:\n  apptest_testset.smoke:\n    pid: 509\n    path: {workdir.path / 'app.apk'}\n"
        "    testset_name: smoke\n    use_vo: false\n"
    )
    assert workdir.apply().exit_code == 0
    hostile(apptest, kind)
    assert_named_error(workdir.plan(), "Error: apptest: read testset status failed")


def test_a_server_sending_a_byte_at_a_time_is_given_up_on_within_the_deadline(bitbar, workdir):
    """operation_timeout: 1s in the provider block bounds the plan's one read, its retries included;
    the next command takes the state lock at once."""
    limits = "    timeout: 0.3\n    operation_timeout: 1s\n"
    workdir.write(BITBAR_PROVIDER + limits + "data:\n  bitbar_devices.all: {}\n")
    hostile(bitbar, "slow-body")
    started = time.monotonic()
    result = workdir.plan()
    took = time.monotonic() - started
    assert_named_error(result, "Error: bitbar: list devices failed")
    assert "still arriving" in result.stderr and took < 3
    bitbar.app.options.failure_rate = 0.0
    assert workdir.plan("--lock-timeout", "0s").exit_code == 0
