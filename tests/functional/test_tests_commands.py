"""labform tests record | flaky | shards through the CLI, on local and PostgreSQL state."""

from __future__ import annotations

import json

import pytest

from labform.engine.history.provenance import COMMIT_VARIABLES
from tests.fixtures.databases import throwaway_database


def junit(workdir, name, cases, device="Pixel 7"):
    """A JUnit file of ``cases``: {name: (outcome, seconds)}; 'flaky' is Surefire's flakyFailure then a pass."""
    body = {
        "passed": "",
        "failed": "<failure message='no'/>",
        "flaky": "<flakyFailure type='AssertionError'/>",
    }
    testcases = "".join(
        f'<testcase classname="com.app.Login" name="{test}" time="{seconds}">{body[outcome]}</testcase>'
        for test, (outcome, seconds) in cases.items()
    )
    return str(workdir.write(f'<testsuites><testsuite name="{device}">{testcases}</testsuite></testsuites>', name))


@pytest.fixture
def outside_ci(monkeypatch):
    for name in (*COMMIT_VARIABLES, "CI"):
        monkeypatch.delenv(name, raising=False)


def test_record_then_flaky_lists_the_flaky_test_and_the_broken_one(workdir, outside_ci):
    first = junit(workdir, "a.xml", {"ok": ("passed", 1), "flips": ("flaky", 2), "red": ("failed", 3)})
    second = junit(workdir, "b.xml", {"ok": ("passed", 3), "flips": ("passed", 2), "red": ("failed", 3)})
    for path, cloud in ((first, "bitbar"), (second, "kyaraben")):
        recorded = workdir.run(
            "tests",
            "record",
            path,
            "--cloud",
            cloud,
            "--commit",
            "abc123",
            "--source",
            "ci",
            "--plan",
            str(workdir.path),
        )
        assert recorded.exit_code == 0, recorded.output
    assert (
        "Recorded 4 results of 3 tests from"
        in workdir.run(
            "tests",
            "record",
            first,
            "--cloud",
            "bitbar",
            "--commit",
            "abc123",
            "--source",
            "ci",
            "--plan",
            str(workdir.path),
        ).stdout
    )
    assert (workdir.path / "labform.state.json.history.sqlite3").exists()
    shown = workdir.run("tests", "flaky", str(workdir.path))
    assert shown.exit_code == 0, shown.output
    assert "11 results of 3 tests on bitbar, kyaraben" in shown.stdout
    assert "com.app.Login.flips  1/1 commits  60.0%" in shown.stdout
    assert "com.app.Login.red" in shown.stdout.split("Broken")[1] and "com.app.Login.ok" not in shown.stdout
    document = json.loads(workdir.run("tests", "flaky", str(workdir.path), "-json").stdout)
    assert document["clouds"] == ["bitbar", "kyaraben"] and document["sources"] == ["ci"]
    assert [t["test_id"] for t in document["flaky"]] == ["com.app.Login.flips"]
    assert document["flaky"][0]["attempts"] == {"passed": 3, "failed": 2, "skipped": 0}
    assert [(t["test_id"], t["broken_commits"]) for t in document["broken"]] == [("com.app.Login.red", 1)]


def test_local_runs_count_only_when_asked(workdir, outside_ci):
    """Outside CI a recording is local (no CI variable), and local rows stay out of the figures by default."""
    workdir.run(
        "tests",
        "record",
        junit(workdir, "a.xml", {"t": ("flaky", 1)}),
        "--cloud",
        "wetest",
        "--plan",
        str(workdir.path),
    )
    default = workdir.run("tests", "flaky", str(workdir.path))
    assert "No test results in" in default.stdout and "CI rows only; --include-local adds local runs" in default.stdout
    local = json.loads(workdir.run("tests", "flaky", str(workdir.path), "--include-local", "-json").stdout)
    assert local["sources"] == ["ci", "local"] and [t["test_id"] for t in local["flaky"]] == ["com.app.Login.t"]


def test_in_ci_the_commit_and_source_come_from_the_environment(workdir, outside_ci, monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123")
    result = workdir.run(
        "tests",
        "record",
        junit(workdir, "a.xml", {"t": ("passed", 1)}),
        "--cloud",
        "bitbar",
        "--plan",
        str(workdir.path),
    )
    assert "(bitbar, commit 0123456789ab, ci)" in result.stdout, result.output


def test_flaky_reads_the_history_in_the_postgres_state_database(workdir, postgres_server, outside_ci):
    with throwaway_database(postgres_server) as database:
        state = f"{database}?workspace=mobile-prod"
        for name, outcome in (("a.xml", "failed"), ("b.xml", "passed")):
            path = junit(workdir, name, {"t": (outcome, 1)})
            recorded = workdir.run(
                "tests", "record", path, "--cloud", "bitbar", "--commit", "c1", "--source", "ci", "--state", state
            )
            assert "in test history in postgresql://127.0.0.1/" in recorded.stdout, recorded.output
        document = json.loads(workdir.run("tests", "flaky", "--state", state, "-json").stdout)
        assert [(t["test_id"], t["flaky_commits"]) for t in document["flaky"]] == [("com.app.Login.t", 1)]
        other = json.loads(workdir.run("tests", "flaky", "--state", f"{database}?workspace=other", "-json").stdout)
        assert other["tests"] == 0 and not workdir.state_file.exists()


KYARABEN_PLAN = """
resources:
  kyaraben_campaign.smoke:
    project: "1"
    tests:
      - {image: lollipop-phone, packages: [com.app.Login, com.app.Cart]}
      - {image: kitkat-tablet, packages: [com.app.Login, com.app.Search]}
"""


def test_shards_of_a_plan_balance_its_packages_by_recorded_durations(workdir, outside_ci):
    workdir.write(KYARABEN_PLAN)
    durations = {"a": ("passed", 50), "b": ("passed", 40), "c": ("passed", 30)}
    path = junit(workdir, "a.xml", durations)
    workdir.run("tests", "record", path, "--cloud", "kyaraben", "--source", "ci", "--plan", str(workdir.path))
    units = "com.app.Login.a\ncom.app.Login.b\n# a comment\ncom.app.Login.c\n\ncom.app.Login.new\n"
    (workdir.path / "units.txt").write_text(units)
    shards = workdir.run(
        "tests", "shards", str(workdir.path / "units.txt"), "--shards", "2", "--state", str(workdir.state_file)
    )
    assert shards.exit_code == 0, shards.output
    assert "shard 1: expected 1m20s, 2 units\n  com.app.Login.a\n  com.app.Login.c" in shards.stdout
    assert "shard 2: expected 1m20s, 2 units\n  com.app.Login.b\n  com.app.Login.new" in shards.stdout
    assert "No recorded duration for 1 unit, counted as 40.0s each: com.app.Login.new" in shards.stdout
    plan = json.loads(workdir.run("tests", "shards", str(workdir.path), "--shards", "2", "-json").stdout)
    # Login took 2 minutes; the packages never recorded count as that median, and go longest first by name.
    assert plan["shards"] == [
        {"expected_seconds": 240.0, "units": ["com.app.Cart", "com.app.Search"]},
        {"expected_seconds": 120.0, "units": ["com.app.Login"]},
    ]
    assert plan["unknown_units"] == ["com.app.Cart", "com.app.Search"] and plan["unknown_unit_seconds"] == 120.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tests", "shards", "{units}", "--shards", "3"], "no recorded duration for any of the 2 units"),
        (["tests", "shards", "{units}"], "give shards (how many shards, --shards N) or shard_time"),
        (["tests", "shards", "{units}", "--shards", "0"], "shards must be at least 1, not 0"),
        (["tests", "shards", "{units}", "--shard-time", "soon"], "'soon' is not a duration"),
        (["tests", "flaky", "--since", "last week"], "'last week' is not a period (use e.g. 30d, 12h, 90m)"),
        (["tests", "flaky", "--sinse", "3d"], "No such option '--sinse'"),
        (["tests", "record", "{bad}", "--cloud", "bitbar"], "bad.xml:1:24: not JUnit XML (mismatched tag)"),
        (["tests", "record", "{bad}", "--cloud", "firebase"], "'firebase' is not a cloud labform knows"),
    ],
)
def test_bad_input_is_a_plain_error_exit_1(workdir, args, message):
    (workdir.path / "units.txt").write_text("com.a\ncom.b\n")
    workdir.write("<testsuite><testcase></testsuite>", "bad.xml")
    given = [a.format(units=workdir.path / "units.txt", bad=workdir.path / "bad.xml") for a in args]
    result = workdir.run(*given, "--state", str(workdir.state_file))
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert "Traceback" not in result.output and result.exception is None
