"""pick and budget on the clouds other than WeTest, over real HTTP against their emulators: Bitbar
budgets in credits (its devices are priced) and cannot pick (its device object has no availability
field); apptest.ai budgets in minutes (time_limit) and cannot pick (it names no device); kyaraben
has neither. Each refusal is a validate error at its field's line, before any request but reads."""

from __future__ import annotations

import re

import pytest

from tests.conftest import BITBAR_PROVIDER, state_of

BITBAR = (
    BITBAR_PROVIDER
    + """
resources:
  bitbar_project.ci: {name: CI, type: ANDROID}
  bitbar_device_group.ci:
    name: CI phones
    os_type: ANDROID
    devices: [304, 321, 337]
    GROUP_OPTIONS
  bitbar_project_config.ci:
    project: ${bitbar_project.ci.id}
    used_device_group: ${bitbar_device_group.ci.id}
  bitbar_run.smoke:
    project: ${bitbar_project.ci.id}
    name: smoke
    depends_on: [bitbar_project_config.ci]
    triggers: [one]
    RUN_OPTIONS
"""
)


def write_bitbar(workdir, run: str = "", group: str = "") -> None:
    workdir.write(BITBAR.replace("RUN_OPTIONS", run).replace("GROUP_OPTIONS", group))


def writes(emulator) -> list:
    return [r for r in emulator.app.log.all() if r.method != "GET"]


def error_at(workdir, stderr: str, address: str, message: str) -> str:
    """The line of the plan the error names, once the error is checked to name ``address`` and ``message``."""
    assert re.search(rf"main\.yaml:\d+:\d+: {re.escape(address)}: .*{re.escape(message)}", stderr), stderr
    line = int(re.search(r"main\.yaml:(\d+):\d+:", stderr).group(1))
    return workdir.path.joinpath("main.yaml").read_text().splitlines()[line - 1].strip()


def group_price(bitbar) -> float:
    with bitbar.api() as api:
        groups = api.get("/api/v2/me/device-groups").json()["data"]
    return next(g["creditsPrice"] for g in groups if g["displayName"] == "CI phones")


def test_a_bitbar_device_group_cannot_pick_and_says_why(bitbar, workdir):
    write_bitbar(workdir, group="pick: {count: 2}")
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    at = error_at(
        workdir,
        result.stderr,
        "bitbar_device_group.ci",
        "bitbar cannot pick devices: the Bitbar API's device object has no availability field",
    )
    assert at.startswith("pick:")
    assert writes(bitbar) == []


def test_a_bitbar_budget_is_checked_against_the_config_price(bitbar, workdir):
    """Priced once the project exists: a plan that creates it cannot check a budget, and says so."""
    write_bitbar(workdir, run="budget: {max_credits: 1000}")
    first = workdir.plan()
    assert first.exit_code == 1
    at = error_at(
        workdir,
        first.stderr,
        "bitbar_run.smoke",
        "the budget cannot be checked before apply: the run's project is created by this plan",
    )
    assert at.startswith("budget:")
    assert workdir.apply("-target", "bitbar_project_config.ci").exit_code == 0
    price = group_price(bitbar)
    assert price > 0

    write_bitbar(workdir, run=f"budget: {{max_credits: {price}}}")
    within = workdir.plan()
    assert within.exit_code == 0, within.stderr
    assert f"budget: at most {price:g} credits of {price:g} credits (project " in within.stdout
    assert "device group 'CI phones' of 3 devices" in within.stdout

    write_bitbar(workdir, run=f"budget: {{max_credits: {price - 0.5}}}")
    over = workdir.plan()
    assert over.exit_code == 1
    message = f"estimated at most {price:g} credits, over the budget of {price - 0.5:g} credits"
    assert error_at(workdir, over.stderr, "bitbar_run.smoke", message).startswith("budget:")
    before = len(writes(bitbar))
    assert workdir.apply().exit_code == 1
    assert len(writes(bitbar)) == before  # no run started
    assert "bitbar_run.smoke" not in state_of(workdir)["resources"]


INVALID = [
    (
        "bitbar in minutes",
        "bitbar",
        "budget: {max_minutes: 10}",
        "budget",
        "bitbar budgets are in credits (prices each device in credits): write max_credits, not max_minutes",
    ),
    ("bitbar with no bound", "bitbar", "budget: {}", "budget", "set max_credits"),
]


@pytest.mark.parametrize("label, cloud, run, at, message", INVALID, ids=[c[0] for c in INVALID])
def test_a_budget_in_the_wrong_unit_is_a_validate_error(label, cloud, run, at, message, bitbar, workdir):
    write_bitbar(workdir, run=run)
    result = workdir.run("validate", str(workdir.path))
    assert result.exit_code == 1 and result.exception is None
    assert error_at(workdir, result.stderr, "bitbar_run.smoke", message).startswith(at)
    assert bitbar.app.log.all() == []


APPTEST = """providers:
  apptest:
    endpoint: ${env.APPTEST_URL}
    user_id: ${env.APPTEST_USER_ID}
    access_key: ${env.APPTEST_ACCESS_KEY}
resources:
  apptest_testset.smoke:
    pid: 509
    path: APP_PATH
    testset_name: Nightly smoke
    OPTIONS
"""


def write_apptest(workdir, *options: str) -> None:
    from tests.apps import build_apk

    (workdir.path / "app.apk").write_bytes(build_apk())
    workdir.write(APPTEST.replace("APP_PATH", str(workdir.path / "app.apk")).replace("OPTIONS", "\n    ".join(options)))


def test_an_apptest_budget_counts_the_time_limit(apptest, workdir):
    write_apptest(workdir, "time_limit: 10", "budget: {max_minutes: 10}")
    within = workdir.plan()
    assert within.exit_code == 0, within.stderr
    assert "budget: at most 10 minutes of 10 minutes (time_limit 10 minutes)" in within.stdout

    write_apptest(workdir, "budget: {max_minutes: 20}")
    over = workdir.plan()
    assert over.exit_code == 1
    message = "estimated at most 30 minutes, over the budget of 20 minutes: time_limit unset: the project's setting, at most 30 minutes"
    assert error_at(workdir, over.stderr, "apptest_testset.smoke", message).startswith("budget:")
    assert workdir.apply().exit_code == 1
    assert apptest.starts() == 0


KYARABEN = """providers:
  kyaraben:
    endpoint: ${env.KYARABEN_URL}
    auth_value: ${env.KYARABEN_AUTH_VALUE}
resources:
  kyaraben_project.lab: {project_name: lab}
  kyaraben_campaign.smoke:
    project: ${kyaraben_project.lab.id}
    tests: [{image: kitkat-tablet}]
    OPTIONS
"""

REFUSED = [
    (
        "apptest in credits",
        "apptest_testset.smoke",
        "budget: {max_credits: 5}",
        "budget",
        "apptest budgets are in minutes (caps a testset's runtime in minutes (time_limit)): write max_minutes, not max_credits",
    ),
    (
        "apptest pick",
        "apptest_testset.smoke",
        "pick: {count: 1}",
        "pick",
        "apptest cannot pick devices: Run New Testset names no device",
    ),
    (
        "kyaraben budget",
        "kyaraben_campaign.smoke",
        "budget: {max_minutes: 5}",
        "budget",
        "kyaraben neither prices a campaign nor caps its runtime (its limit is the VM quota), so a budget cannot be checked there",
    ),
    (
        "kyaraben pick",
        "kyaraben_campaign.smoke",
        "pick: {count: 1}",
        "pick",
        "kyaraben cannot pick devices: each campaign test runs on a VM made from its image",
    ),
]


@pytest.mark.parametrize("label, address, option, at, message", REFUSED, ids=[c[0] for c in REFUSED])
def test_a_cloud_without_prices_runtime_caps_or_availability_refuses_at_validate(
    label, address, option, at, message, apptest, kyaraben, workdir
):
    if address.startswith("apptest"):
        write_apptest(workdir, option)
    else:
        workdir.write(KYARABEN.replace("OPTIONS", option))
    result = workdir.run("validate", str(workdir.path))
    assert result.exit_code == 1 and result.exception is None
    assert error_at(workdir, result.stderr, address, message).startswith(at)
    assert apptest.app.log.all() == [] and kyaraben.app.log.all() == []
