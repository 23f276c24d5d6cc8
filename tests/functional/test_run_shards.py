"""shards / shard_time on a run: the suite split by recorded durations when the plan creates the run, shown
in the plan, started as a campaign per shard, kept in state (never split again), resumed when cut off.

Over real HTTP against the kyaraben emulator: what it was asked to start (its campaigns and their
tests' packages, its request log) is checked against the plan's split and the state.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from labform.engine.history.provenance import COMMIT_VARIABLES
from labform.providers.bitbar.emulator.timing import ended_at
from tests.conftest import state_of
from tests.functional.kyaraben.conftest import resources_of, write_lab

WAIT = "wait: {timeout: 60s, poll: 0.1s}"
PACKAGES = ("com.app.Login", "com.app.Cart", "com.app.Search", "com.app.Pay")
# Two campaign tests (VMs), each under test with all four packages.
TESTS = "tests:\n" + "".join(
    f'  - image: {image}\n    apks: ["${{kyaraben_apk.app.id}}", "${{kyaraben_testsource.checkout.apk_id}}"]\n'
    f"    packages: [{', '.join(PACKAGES)}]\n"
    for image in ("kitkat-tablet", "lollipop-phone")
)
# Recorded seconds per package's one test: LPT over 2 shards gives Login + Pay (70s) and Cart + Search (70s).
SECONDS = {"com.app.Login": 50, "com.app.Cart": 40, "com.app.Search": 30, "com.app.Pay": 20}
STARTS = r"^/projects/[^/]+/campaigns$"


@pytest.fixture(autouse=True)
def outside_ci(monkeypatch):
    for name in (*COMMIT_VARIABLES, "CI"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def quick(running_clock, emulator_options, kyaraben):
    """Quick campaigns, with room for both shards' VMs at once (the default quota has 3)."""
    emulator_options.job_duration = 0.2
    kyaraben.set_quota(vm_live_max=3, vm_async_max=8)


def write_suite(workdir, options: str):
    """The lab with the smoke campaign's tests replaced by the two above, and ``options`` added."""
    plan = write_lab(workdir, f"{WAIT}\n{options}")
    text = plan.read_text()
    start = text.index("    tests:\n", text.index("kyaraben_campaign.smoke"))
    end = text.index("    triggers:", start)
    return workdir.write(text[:start] + "    " + TESTS.replace("\n", "\n    ").rstrip() + "\n" + text[end:])


def record_history(workdir, seconds: dict[str, float]) -> None:
    cases = "".join(f'<testcase classname="{package}" name="run" time="{s}"/>' for package, s in seconds.items())
    junit = workdir.write(f'<testsuites><testsuite name="kitkat-tablet">{cases}</testsuite></testsuites>', "h.xml")
    recorded = workdir.run(
        "tests", "record", str(junit), "--cloud", "kyaraben", "--source", "ci", "--plan", str(workdir.path)
    )
    assert recorded.exit_code == 0, recorded.output


def campaign_starts(kyaraben) -> int:
    return len([r for r in kyaraben.app.log.matching("POST") if re.match(STARTS, r.path)])


def started_packages(kyaraben) -> dict[str, list[list[str]]]:
    """Each campaign the emulator was asked to start: its tests' packages, by campaign name."""
    return {c["campaign_name"]: [t["packages"] for t in c["tests"]] for c in kyaraben.records("campaigns")}


def test_a_sharded_campaign_is_split_by_history_shown_in_the_plan_and_started_once(quick, kyaraben, workdir):
    record_history(workdir, SECONDS)
    write_suite(workdir, "shards: 2")
    plan = workdir.plan()
    assert plan.exit_code == 0, plan.output
    assert "2 shards by recorded durations, expected (units): 1: ~1m10s (2), 2: ~1m10s (2)" in plan.output
    shown = json.loads(workdir.plan("-json").stdout)
    [change] = [c for c in shown["resource_changes"] if c["address"] == "kyaraben_campaign.smoke"]
    assert change["change"]["after"]["shard_plan"]["shards"] == [
        {"expected_seconds": 70.0, "units": ["com.app.Login", "com.app.Pay"]},
        {"expected_seconds": 70.0, "units": ["com.app.Cart", "com.app.Search"]},
    ]

    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output
    attrs = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]
    name = attrs["campaign_name"]
    # A campaign per shard, each test of the block keeping the shard's packages; the first is the run's own.
    assert started_packages(kyaraben) == {
        name: [["com.app.Login", "com.app.Pay"]] * 2,
        f"{name}-shard-2": [["com.app.Cart", "com.app.Search"]] * 2,
    }
    assert [s["campaign_name"] for s in attrs["shard_runs"]] == [name, f"{name}-shard-2"]
    assert attrs["id"] == attrs["shard_runs"][0]["id"] and "starting" not in attrs
    assert attrs["shard_plan"] == change["change"]["after"]["shard_plan"]
    # Four campaign tests (VMs) over both shards, each running the test source's two scenarios.
    assert len(attrs["results"]) == 4 and len(attrs["record"]) == 8

    # History learns new durations: the run that exists is not split again, nor started again.
    record_history(workdir, {"com.app.Login": 500})
    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert workdir.apply().exit_code == 0
    assert campaign_starts(kyaraben) == 2


def test_a_saved_plan_is_applied_as_it_was_split(quick, kyaraben, workdir):
    """History that changes between plan -out and apply does not change what starts: the plan's split."""
    record_history(workdir, SECONDS)
    write_suite(workdir, "shards: 2")
    saved = str(workdir.path / "tfplan")
    assert workdir.plan("-out", saved).exit_code == 0
    record_history(workdir, {"com.app.Login": 500, "com.app.Cart": 1})
    applied = workdir.run("apply", saved)
    assert applied.exit_code == 0, applied.output
    name = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]["campaign_name"]
    assert started_packages(kyaraben)[name] == [["com.app.Login", "com.app.Pay"]] * 2


def test_the_plan_counts_every_shards_vms_against_the_quota(kyaraben, workdir):
    record_history(workdir, SECONDS)
    write_suite(workdir, "shards: 2")
    refused = workdir.plan()
    assert refused.exit_code == 1
    assert (
        "this plan's campaigns need 4 concurrent VMs and 0 run already; 4 is more than vm_async_max 3" in refused.output
    )


def test_shard_time_guesses_units_never_recorded_and_caps_the_count(quick, kyaraben, workdir):
    write_suite(workdir, "shards: 3\nshard_time: 5m")
    plan = workdir.plan()
    assert plan.exit_code == 0, plan.output
    # Nothing recorded: each of the 4 packages counts as 2 minutes, so 8 minutes in 5-minute shards is 2.
    assert "2 shards by recorded durations, expected (units): 1: ~4m00s (2), 2: ~4m00s (2)" in plan.output
    assert "4 unit(s) never recorded, counted as 2m00s each" in plan.output


def test_a_start_cut_off_between_shards_starts_only_the_missing_ones(quick, kyaraben, workdir):
    """Every campaign start acts but loses its answer: the first shard is found by the run's name,
    the second's loss stops the apply; the next one finds it too and starts nothing."""
    record_history(workdir, SECONDS)
    write_suite(workdir, "shards: 2")
    options = kyaraben.app.options
    options.failure_kinds, options.failure_rate, options.failure_paths = ("500-after",), 1.0, f"POST {STARTS[1:]}"
    cut = workdir.apply()
    assert cut.exit_code == 1, cut.output
    assert campaign_starts(kyaraben) == 2 and len(kyaraben.records("campaigns")) == 2
    attrs = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]
    assert [s["campaign_name"] for s in attrs.get("shard_runs", [])] in ([], [attrs["campaign_name"]])

    options.failure_rate = 0.0
    plan = workdir.plan()
    assert "the run was partly started: apply starts its missing shards" in plan.output, plan.output
    resumed = workdir.apply()
    assert resumed.exit_code == 0, resumed.output
    assert campaign_starts(kyaraben) == 2, "a shard was started twice"
    attrs = resources_of(workdir)["kyaraben_campaign.smoke"]["attributes"]
    assert len(attrs["shard_runs"]) == 2 and "starting" not in attrs and len(attrs["results"]) == 4
    assert workdir.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ("shards: 2", "shards", "no recorded duration for any of the 4 units, so they cannot be balanced"),
        ("shards: 0", "shards", "greater than or equal to 1"),
        ("shards: 51", "shards", "less than or equal to 50"),
        ("shard_time: 0s", "shard_time", "greater than 0"),
    ],
)
def test_bad_shards_are_errors_at_their_line_and_nothing_starts(options, field, message, kyaraben, workdir):
    path = write_suite(workdir, options)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.strip().startswith(f"{field}:"))
    for command in (("validate", str(workdir.path)), ("plan", str(workdir.path))):
        result = workdir.run(*command)
        assert result.exit_code == 1, result.output
        assert message in result.output and f"main.yaml:{line}:" in result.output, result.output
        assert "Traceback" not in result.output
    assert kyaraben.app.log.matching("POST") == []


def test_a_test_without_packages_cannot_be_sharded(kyaraben, workdir):
    path = write_suite(workdir, "shard_time: 5m")
    text = path.read_text().replace(f"packages: [{', '.join(PACKAGES)}]", "packages: []", 1)
    workdir.write(text)
    result = workdir.run("validate", str(workdir.path))
    assert result.exit_code == 1
    assert "a sharded campaign's tests each need packages (its units): #1 has none" in result.output


# A run of each cloud that cannot shard, as validate reads it (no cloud is asked).
RUNS = {
    "wetest": "wetest_test.smoke:\n    project: p1\n    cloud_id: 1\n    app: app.apk\n    devices: [1]",
    "apptest": "apptest_testset.smoke:\n    pid: 1\n    testset_name: smoke\n    path: app.apk",
}


@pytest.mark.parametrize(
    ("cloud", "why"),
    [
        ("wetest", "wetest cannot shard a run: its submit takes devices, with no test selection"),
        ("apptest", "apptest cannot shard a run: a test set tests the whole app"),
    ],
)
def test_a_cloud_that_cannot_shard_says_why_at_the_field(cloud, why, workdir):
    (workdir.path / "app.apk").write_bytes(b"PK")
    workdir.write(f"resources:\n  {RUNS[cloud]}\n    shards: 2\n")
    result = workdir.run("validate", str(workdir.path))
    line = len(RUNS[cloud].splitlines()) + 2
    assert result.exit_code == 1 and why in result.output and f"main.yaml:{line}:" in result.output, result.output


def bitbar_runs(bitbar) -> list[dict]:
    with bitbar.app.store.lock:
        return sorted((dict(r) for r in bitbar.app.store.data["runs"].values()), key=lambda r: r["id"])


def learn_classes(workdir, monkeypatch) -> tuple[Path, list[str]]:
    """A first run in CI, waited on with JUnit: history learns the suite's classes."""
    from tests.functional.test_bitbar_runs import write_plan

    monkeypatch.setenv("CI", "true")
    junit = workdir.path / "smoke.xml"
    write_plan(workdir, f"{WAIT}\njunit: {junit}")
    assert workdir.apply().exit_code == 0
    classes = sorted({c.get("classname") for c in ET.parse(junit).getroot().iter("testcase")})
    assert len(classes) >= 3, classes
    write_plan(workdir, f"{WAIT}\nshards: 2\ngate: {{min_success_ratio: 1.0}}\njunit: {junit}")
    return junit, classes


def test_a_sharded_bitbar_run_is_a_lane_of_class_runs_per_shard(running_clock, bitbar, workdir, monkeypatch):
    """The sharded run runs each class history knows once, in its own run, each shard's classes one
    after another; its gate judges each device by all its runs."""
    junit, classes = learn_classes(workdir, monkeypatch)
    plan = workdir.plan()
    assert plan.exit_code == 0, plan.output
    assert "2 shards by recorded durations" in plan.output and "must be replaced" in plan.output
    before = len(bitbar_runs(bitbar))
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output

    attrs = state_of(workdir)["resources"]["bitbar_run.smoke"]["attributes"]
    lanes = [shard["units"] for shard in attrs["shard_plan"]["shards"]]
    assert sorted(u for lane in lanes for u in lane) == classes
    made = bitbar_runs(bitbar)[before:]
    # Each class once, in a run of its own selecting it, never through the project's config.
    assert sorted(r["config"]["limitationValue"] for r in made) == classes
    assert all(r["config"]["limitationType"] == "CLASS" for r in made)
    assert sorted((r["shard"], r["unit"]) for r in attrs["shard_runs"]) == sorted(
        (k, u) for k, lane in enumerate(lanes, 1) for u in lane
    )
    assert attrs["id"] == attrs["shard_runs"][0]["id"] and attrs["name"] == "smoke"
    # Within a lane, a class's run starts only once the one before it ended on every device.
    with bitbar.app.store.lock:
        ends = {
            run["id"]: max(ended_at(bitbar.app.store.data["deviceRuns"][str(i)]) for i in run["deviceRunIds"])
            for run in made
        }
    starts = {r["id"]: r["createdAt"] for r in made}
    for lane in range(1, len(lanes) + 1):
        ids = [r["id"] for r in attrs["shard_runs"] if r["shard"] == lane]
        assert [u for r in attrs["shard_runs"] if r["shard"] == lane for u in [r["unit"]]] == lanes[lane - 1]
        for earlier, later in zip(ids, ids[1:], strict=False):
            assert starts[later] >= ends[earlier]
    # One JUnit testcase per test and device over all the runs, as the first run had.
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert sorted({c.get("classname") for c in cases}) == classes
    assert workdir.plan("--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("kind", ["500-after", "drop-after"])
def test_a_lane_run_whose_answer_was_lost_is_found_not_started_again(kind, running_clock, bitbar, workdir, monkeypatch):
    _, classes = learn_classes(workdir, monkeypatch)
    before = len(bitbar_runs(bitbar))
    options = bitbar.app.options
    options.failure_kinds, options.failure_rate, options.failure_paths = (kind,), 1.0, r"^POST /api/v2/users/\d+/runs$"
    applied = workdir.apply()
    assert applied.exit_code == 0, applied.output
    made = bitbar_runs(bitbar)[before:]
    assert sorted(r["config"]["limitationValue"] for r in made) == classes, "a class was started twice"
    starts = [r for r in bitbar.app.log.matching("POST") if re.fullmatch(r"/api/v2/users/\d+/runs", r.path)]
    assert len(starts) == len(classes) and all(r.status != 201 for r in starts)  # each answer was lost
    attrs = state_of(workdir)["resources"]["bitbar_run.smoke"]["attributes"]
    assert sorted(r["id"] for r in attrs["shard_runs"]) == [r["id"] for r in made]
