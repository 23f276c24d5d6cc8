"""The test history (engine/history/): JUnit attempts in, figures out, on both stores; nothing ever changed."""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from labform.engine.history import open_history, record_junit
from labform.engine.history.errors import HistoryError
from labform.engine.history.ingest import results
from labform.engine.history.local import LocalHistory
from labform.engine.history.provenance import COMMIT_VARIABLES, current_commit, current_source
from tests.fixtures.databases import throwaway_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY_AGO = NOW - timedelta(days=1)

SUREFIRE = """<?xml version="1.0"?>
<testsuite name="com.app.LoginTest" tests="4">
  <properties><property name="device" value="Pixel 7"/></properties>
  <testcase classname="com.app.LoginTest" name="flaky" time="2.5">
    <flakyFailure type="java.lang.AssertionError" message="first"/>
    <flakyError type="java.io.IOException" message="second" time="0.5"/>
  </testcase>
  <testcase classname="com.app.LoginTest" name="broken" time="1.0">
    <failure message="no"/>
    <rerunFailure type="java.lang.AssertionError"/>
  </testcase>
  <testcase classname="com.app.LoginTest" name="off"><skipped/></testcase>
  <testcase name="bare" time="x"/>
</testsuite>
"""


def _attempts(xml, **given):
    options = {"device": None, "commit": "c1", "source": "ci", "run_id": "r1", **given}
    return [(r.test_id, r.device, r.attempt, r.outcome, r.duration) for r in results(xml, "ws", "bitbar", **options)]


def test_surefire_reruns_are_attempts_in_the_order_they_ran():
    assert _attempts(SUREFIRE) == [
        ("com.app.LoginTest.flaky", "Pixel 7", 1, "failed", None),
        ("com.app.LoginTest.flaky", "Pixel 7", 2, "error", 0.5),
        ("com.app.LoginTest.flaky", "Pixel 7", 3, "passed", 2.5),
        ("com.app.LoginTest.broken", "Pixel 7", 1, "failed", 1.0),
        ("com.app.LoginTest.broken", "Pixel 7", 2, "failed", None),
        ("com.app.LoginTest.off", "Pixel 7", 1, "skipped", None),
        ("bare", "Pixel 7", 1, "passed", None),
    ]


def test_a_repeated_test_case_is_a_further_attempt_on_its_own_device():
    """Gradle's test-retry writes each retry as another <testcase>; labform's JUnit names suites after devices."""
    xml = """<testsuites>
      <testsuite name="Galaxy S9"><testcase classname="A" name="t"><failure/></testcase>
        <testcase classname="A" name="t"/></testsuite>
      <testsuite name="Pixel 7"><testcase classname="A" name="t"/></testsuite>
    </testsuites>"""
    assert _attempts(xml) == [
        ("A.t", "Galaxy S9", 1, "failed", None),
        ("A.t", "Galaxy S9", 2, "passed", None),
        ("A.t", "Pixel 7", 1, "passed", None),
    ]
    assert {device for _, device, *_ in _attempts(xml, device="Moto G")} == {"Moto G"}


@pytest.mark.parametrize(
    ("junit", "message"),
    [
        ("<testsuite><testcase name='a'>", r"the JUnit XML:1:\d+: not JUnit XML \(no element found"),
        ("<results/>", "its root is <results>, not <testsuites> or <testsuite>"),
        ("<testsuite><testcase classname='A'/></testsuite>", "a <testcase> has no name"),
        ("/nowhere/junit.xml", "cannot read /nowhere/junit.xml: No such file or directory"),
    ],
)
def test_what_is_not_junit_is_refused_naming_where(junit, message):
    with pytest.raises(HistoryError, match=message):
        results(junit, "ws", "bitbar", device=None, commit=None, source="ci", run_id="r")


def test_a_bad_file_is_named_with_its_line_and_column(tmp_path):
    bad = tmp_path / "junit.xml"
    bad.write_text("<testsuites>\n  <testsuite name='x'>\n  </testsuites>\n")
    with pytest.raises(HistoryError, match=rf"{bad}:3:5: not JUnit XML \(mismatched tag\)"):
        results(bad, "ws", "bitbar", device=None, commit=None, source="ci", run_id="r")


@pytest.fixture(scope="module")
def history_database(postgres_server):
    with throwaway_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["local", "postgresql"])
def store(request, tmp_path):
    """Each store, behind the one interface; a workspace of its own in the module's database."""
    if request.param == "local":
        return open_history(str(tmp_path / "labform.state.json"))
    return open_history(f"{request.getfixturevalue('history_database')}?workspace={uuid.uuid4().hex}")


def _case(name, outcome="passed", time=1.0):
    inner = {"passed": "", "failed": "<failure/>", "error": "<error/>", "skipped": "<skipped/>"}[outcome]
    return f'<testcase classname="A" name="{name}" time="{time}">{inner}</testcase>'


def _run(store, cases, device="Pixel 7", commit="c1", source="ci", cloud="bitbar", at=NOW):
    xml = f'<testsuite name="{device}">{"".join(cases)}</testsuite>'
    return record_junit(store, store.workspace, cloud, xml, commit=commit, source=source, recorded_at=at)


def test_a_store_tells_flaky_from_broken_across_runs_clouds_and_devices(store):
    _run(store, [_case("flips"), _case("broken", "failed"), _case("stable", time=3.0)])
    _run(store, [_case("flips", "failed"), _case("broken", "error"), _case("stable", time=5.0)], cloud="wetest")
    _run(store, [_case("flips"), _case("device", "failed")], device="Galaxy S9")
    _run(store, [_case("flips"), _case("device")], device="Pixel 7", commit="c2")
    figures = store.figures(store.workspace, DAY_AGO)
    flips, broken, stable, device = (figures[f"A.{n}"] for n in ("flips", "broken", "stable", "device"))
    # Per cloud and device: on c1 it passed on bitbar's Pixel 7 and failed its one attempt on wetest's.
    assert (flips.flaky_commits, flips.broken_commits, flips.commits) == (0, 1, 2)
    assert (broken.broken_commits, broken.pass_rate, broken.clouds) == (1, 0.0, {"bitbar", "wetest"})
    assert (stable.median_duration, stable.pass_rate, stable.flip_rate) == (4.0, 1.0, 0.0)
    assert (device.broken_commits, device.flaky_commits, device.commits) == (1, 0, 2)


def test_a_flip_on_one_device_and_commit_is_flaky(store):
    _run(store, [_case("t"), _case("t", "failed")])  # two attempts of one run
    _run(store, [_case("t", "failed")], commit="c2")
    figure = store.figures(store.workspace, DAY_AGO)["A.t"]
    assert (figure.flaky_commits, figure.broken_commits, figure.commits, figure.flip_rate) == (1, 1, 2, 0.5)


def test_without_a_commit_each_run_is_its_own(store):
    _run(store, [_case("t")], commit=None)
    _run(store, [_case("t", "failed")], commit=None)
    figure = store.figures(store.workspace, DAY_AGO)["A.t"]
    assert (figure.commits, figure.flaky_commits, figure.broken_commits) == (2, 0, 1)


def test_figures_are_ci_rows_in_the_window_unless_asked(store):
    _run(store, [_case("t")])
    _run(store, [_case("t", "failed")], source="local")
    _run(store, [_case("t", "failed")], at=NOW - timedelta(days=40))
    ci = store.figures(store.workspace, NOW - timedelta(days=30))["A.t"]
    assert (ci.passed, ci.failed, ci.flaky_commits) == (1, 0, 0)
    both = store.figures(store.workspace, NOW - timedelta(days=30), include_local=True)["A.t"]
    assert (both.passed, both.failed, both.flaky_commits) == (1, 1, 1)  # one commit: the local run flipped it
    older = store.figures(store.workspace, NOW - timedelta(days=50))["A.t"]
    assert (older.passed, older.failed, older.flaky_commits) == (1, 1, 1)
    assert store.figures("another-workspace", DAY_AGO) == {}


def test_the_median_is_of_attempts_that_ran(store):
    _run(store, [_case("t", time=1.0), _case("t", time=9.0), _case("t", "failed", time=2.0), _case("t", "skipped")])
    assert store.medians(store.workspace, DAY_AGO) == {"A.t": 2.0}


def test_local_history_is_only_ever_added_to(tmp_path):
    store = open_history(str(tmp_path / "labform.state.json"))
    _run(store, [_case("t")])
    assert isinstance(store, LocalHistory) and store.path == tmp_path / "labform.state.json.history.sqlite3"
    with sqlite3.connect(store.path) as conn:
        for statement in ("UPDATE labform_test_results SET outcome = 'failed'", "DELETE FROM labform_test_results"):
            with pytest.raises(sqlite3.IntegrityError, match="only ever added to"):
                conn.execute(statement)
    assert store.figures(store.workspace, DAY_AGO)["A.t"].passed == 1


def test_postgres_history_is_only_ever_added_to(history_database):
    store = open_history(f"{history_database}?workspace=append-only")
    _run(store, [_case("t")])
    with psycopg.connect(history_database, autocommit=True) as conn:
        for statement in ("UPDATE labform_test_results SET outcome = 'failed'", "DELETE FROM labform_test_results"):
            with pytest.raises(psycopg.errors.RaiseException, match="only ever added to"):
                conn.execute(statement)
    assert store.figures("append-only", DAY_AGO)["A.t"].passed == 1


def test_an_unreachable_history_database_is_a_plain_error_with_no_password():
    store = open_history("postgresql://labform:s3cret-pw@127.0.0.1:1/nowhere?workspace=w")
    with pytest.raises(HistoryError, match="test history in postgresql://127.0.0.1/nowhere workspace w") as caught:
        store.figures("w", DAY_AGO)
    assert "s3cret-pw" not in str(caught.value)


@pytest.fixture
def no_ci(monkeypatch):
    for name in (*COMMIT_VARIABLES, "CI"):
        monkeypatch.delenv(name, raising=False)


def test_the_commit_comes_from_the_ci_environment_first(no_ci, monkeypatch, tmp_path):
    monkeypatch.setenv("CI_COMMIT_SHA", "gitlab-sha")
    monkeypatch.setenv("GIT_COMMIT", "jenkins-sha")
    assert current_commit(tmp_path) == "gitlab-sha"
    monkeypatch.setenv("GITHUB_SHA", "github-sha")
    assert current_commit(tmp_path) == "github-sha"


def test_else_from_git_in_the_plan_folder_else_none(no_ci, tmp_path):
    assert current_commit(tmp_path) is None  # not a repository
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert current_commit(tmp_path) == head.strip()


def test_the_source_is_ci_where_ci_says_so(no_ci, monkeypatch):
    assert current_source() == "local"
    monkeypatch.setenv("CI", "false")
    assert current_source() == "local"
    monkeypatch.setenv("CI", "true")
    assert current_source() == "ci"
