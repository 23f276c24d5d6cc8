"""apptest_testset end to end: once per app hash or trigger, plan-time rules, result codes as errors, secrets."""

from __future__ import annotations

import re

import pytest

from tests.apps import build_apk, build_ipa, text_manifest
from tests.functional.apptest.conftest import (
    ACCESS_KEY,
    APPTEST_PROVIDER,
    recorded_testset,
)

PLAN = (
    APPTEST_PROVIDER
    + """
resources:
  apptest_testset.smoke:
    pid: PID
    path: APP_PATH
    testset_name: Nightly smoke
    OPTIONS
"""
)
LOGIN_PW = "hunter2-login-password"


def write_plan(workdir, *options: str, app: bytes | None = None, name: str = "app.apk", pid: int = 509) -> None:
    (workdir.path / name).write_bytes(build_apk() if app is None else app)
    lines = "\n    ".join(o for option in options for o in option.split("\n") if o)
    plan = PLAN.replace("PID", str(pid)).replace("APP_PATH", str(workdir.path / name))
    workdir.write(plan.replace("OPTIONS", lines or "use_vo: false"))


def test_a_testset_starts_once_per_app_hash_and_the_second_plan_is_empty(apptest, workdir):
    """Without triggers the app's sha256 decides: the same build starts nothing, a new build one more testset."""
    write_plan(workdir, "time_limit: 5")
    first = workdir.apply()
    assert first.exit_code == 0, first.output
    stored = apptest.stored_testsets()
    assert [(t["pid"], t["testset_name"], t["time_limit"]) for t in stored] == [(509, "Nightly smoke", 5)]
    assert recorded_testset(workdir)["attributes"]["test_count"] == 3
    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert workdir.apply().exit_code == 0
    assert apptest.starts() == 1

    write_plan(workdir, "time_limit: 5", app=build_apk(text_manifest(version="2.0")))
    plan = workdir.plan()
    assert "apptest_testset.smoke must be replaced" in plan.stdout
    assert re.search(r'~ sha256\s+= "[0-9a-f]{64}" -> "[0-9a-f]{64}"  # forces replacement', plan.stdout)
    assert workdir.apply().exit_code == 0
    assert apptest.starts() == 2


def test_with_triggers_a_new_build_alone_starts_nothing(apptest, workdir):
    """Explicit triggers replace the app hash as what starts a testset."""
    write_plan(workdir, "triggers: [release-1]")
    assert workdir.apply().exit_code == 0
    write_plan(workdir, "triggers: [release-1]", app=build_apk(text_manifest(version="2.0")))
    assert workdir.plan("--detailed-exitcode").exit_code == 0
    write_plan(workdir, "triggers: [release-2]", app=build_apk(text_manifest(version="2.0")))
    assert workdir.apply().exit_code == 0
    assert apptest.starts() == 2


def test_the_docs_time_limmit_spelling_is_read_as_time_limit_with_a_warning(apptest, workdir):
    """The doc's 'time_limmit' works as time_limit, with a warning, and plans cleanly afterwards."""
    write_plan(workdir, "time_limmit: 7")
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    assert "'time_limmit' (the API doc's misspelling) is read as time_limit; please rename it" in result.stderr
    assert apptest.stored_testsets()[0]["time_limit"] == 7
    assert workdir.plan("--detailed-exitcode").exit_code == 0


INVALID = [
    ("time_limit 31", "time_limit: 31", "time_limit", "time_limit: must be less than or equal to 30"),
    ("time_limit 4", "time_limit: 4", "time_limit", "time_limit: must be greater than or equal to 5"),
    (
        "both spellings",
        "time_limit: 5\ntime_limmit: 6",
        "time_limmit",
        "set time_limit only (time_limmit is the API doc's misspelling of it)",
    ),
    ("name over 100", "testset_name: " + "n" * 101, "testset_name", "testset_name: must have at most 100 characters"),
    (
        "callback over 250",
        "callback: https://ci/" + "c" * 240,
        "callback",
        "callback: must have at most 250 characters",
    ),
    ("password over 150", "login_pw: " + "p" * 151, "login_pw", "login_pw: must have at most 150 characters"),
    ("empty gate", "wait: {timeout: 1m}\ngate: {}", "gate", "set max_failed, max_errors or min_passed"),
    ("unknown gate bound", "wait: {timeout: 1m}\ngate: {max_failures: 0}", "gate", "gate.max_failures: unknown field"),
]


@pytest.mark.parametrize("option, field, message", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_an_invalid_argument_is_a_plan_error_at_its_line(option, field, message, apptest, workdir):
    """Documented limits fail the plan at the field's line, before anything is sent."""
    write_plan(workdir, option)
    if option.startswith("testset_name"):
        workdir.write(workdir.path.joinpath("main.yaml").read_text().replace("    testset_name: Nightly smoke\n", ""))
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    match = re.search(r"main\.yaml:(\d+):\d+: apptest_testset\.smoke: (.*)", result.stderr)
    assert match and message in match.group(2), result.stderr
    assert (
        workdir.path.joinpath("main.yaml").read_text().splitlines()[int(match.group(1)) - 1].strip().startswith(field)
    )
    assert apptest.starts() == 0


def test_an_unsupported_extension_is_a_plan_error_at_the_path_line(apptest, workdir):
    """A file apptest.ai would refuse (4050) fails the plan at the path line instead."""
    write_plan(workdir, name="app.exe")
    result = workdir.plan()
    assert result.exit_code == 1 and result.exception is None
    assert re.search(
        r"main\.yaml:11:5: apptest_testset\.smoke: 'app\.exe' is not a kind of file the cloud accepts \(\.apk, \.xapk",
        result.stderr,
    )


CLOUD_ERRORS = [
    (
        "unknown project",
        4242,
        None,
        "4052",
        "Invalid Request Parameter: Invalid request parameter : (project_id : 4242); pid: this account has no such project",
    ),
    ("project without device preset", 511, None, "4080", "pid: the project has no device preset"),
    ("no available device", 512, None, "4081", "pid: none of the project's preset devices is available now"),
    (
        "iOS app in an Android project",
        509,
        ("app.ipa", build_ipa()),
        "4055",
        "path: the app's platform does not match the project's devices",
    ),
    (
        "no launchable activity",
        509,
        ("app.apk", build_apk(text_manifest(launcher=False))),
        "4041",
        "path: the app has no launchable activity",
    ),
    ("not an app", 509, ("app.apk", b"not a zip"), "4032", "path: the file is not a valid app"),
]


@pytest.mark.parametrize("pid, app, code, message", [c[1:] for c in CLOUD_ERRORS], ids=[c[0] for c in CLOUD_ERRORS])
def test_a_result_code_fails_the_apply_with_its_reason_and_the_field(pid, app, code, message, apptest, workdir):
    """The cloud's result_code, its reason and what to look at; nothing is recorded."""
    name, content = app or ("app.apk", None)
    write_plan(workdir, app=content, name=name, pid=pid)
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert f"apptest: start testset failed ({code}): " in result.output and message in result.output, result.output
    assert not workdir.state_file.exists() or "apptest_testset.smoke" not in workdir.state_file.read_text()


def test_secrets_never_appear_in_output_state_or_logs(apptest, workdir):
    """Neither the access key nor the app login password shows in plans, debug logs or state."""
    write_plan(workdir, "login_id: qa-bot", f"login_pw: {LOGIN_PW}")
    outputs = [
        workdir.plan(),
        workdir.run("--log-level", "DEBUG", "apply", str(workdir.path), "--auto-approve"),
        workdir.plan("-json"),
    ]
    assert outputs[1].exit_code == 0, outputs[1].output
    assert "DEBUG" in outputs[1].stderr
    for result in outputs:
        assert ACCESS_KEY not in result.output and LOGIN_PW not in result.output
    state = workdir.state_file.read_text()
    assert ACCESS_KEY not in state and LOGIN_PW not in state
    assert recorded_testset(workdir)["attributes"]["login_pw"].startswith("scrypt:")


def test_destroying_a_running_testset_says_it_runs_to_its_end(apptest, workdir):
    """apptest.ai cannot stop a testset: destroy forgets it and says so."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    destroyed = workdir.run("destroy", str(workdir.path), "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output
    assert "still running; apptest.ai cannot stop it, so it runs to its end" in destroyed.stdout
    assert "apptest_testset.smoke" not in workdir.state_file.read_text()


def test_wrong_credentials_fail_with_the_clouds_reason_and_no_secret(apptest, workdir, monkeypatch):
    """A 401 gives the cloud's reason; the (wrong) access key given is not echoed."""
    monkeypatch.setenv("APPTEST_ACCESS_KEY", "wrong-access-key-value")
    write_plan(workdir)
    result = workdir.apply()
    assert result.exit_code == 1 and result.exception is None
    assert "apptest: start testset failed (401): Unauthorized: Invalid user_id or access_key." in result.output
    assert "wrong-access-key-value" not in result.output


def test_a_refresh_whose_reads_keep_failing_is_an_error_never_gone(apptest, workdir):
    """Every read refused (429, Retry-After 0, so quickly), the result's too: the plan fails naming the
    status read, and plans no second testset."""
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    apptest.app.options.failure_kinds, apptest.app.options.failure_rate = ("429",), 1.0
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 1 and "will be created" not in plan.output, plan.output
    assert "apptest: read testset status failed (429)" in plan.output, plan.output
