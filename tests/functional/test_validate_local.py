"""``labform validate`` refuses every local mistake ``plan`` refuses without the cloud, at the same line.

The cases are every refusal a provider makes from local inputs alone (grep
the providers' ``check``, ``plan_attributes`` and ``ArgumentError`` raises):
each type's cross-field rules, and a file that is missing, unreadable or of a
kind the cloud refuses. The provider blocks point at a port nothing listens
on, so a plan that asked a cloud would fail differently.
"""

from __future__ import annotations

import pytest

from tests.apps import build_apk

NOWHERE = "http://127.0.0.1:9"
PROVIDERS = f"""providers:
  bitbar: {{endpoint: "{NOWHERE}", api_key: k}}
  wetest: {{endpoint: "{NOWHERE}", secret_id: i, secret_key: k}}
  apptest: {{endpoint: "{NOWHERE}", user_id: u, access_key: k}}
  kyaraben: {{endpoint: "{NOWHERE}", auth_value: u}}
  perfecto: {{endpoint: "{NOWHERE}", security_token: t}}
resources:
"""
WETEST_TEST = "  wetest_test.t:\n    project: p\n    app: a\n    cloud_id: 1\n"
# name -> (the block, the line of main.yaml the refusal names, a part of its message)
CASES = {
    "perfecto_gate without a bar": (
        "  perfecto_gate.g:\n    job_name: nightly\n",
        8,
        "set min_pass_rate or fail_on (or both)",
    ),
    "bitbar_run gate without wait": (
        "  bitbar_run.r:\n    project: 1\n    gate: {min_success_ratio: 0.9}\n",
        10,
        "a gate needs 'wait'",
    ),
    "wetest_test appium without a script": (WETEST_TEST + "    device_number: 1\n", 8, "script is required"),
    "wetest_test scenarios outside game_loop": (
        WETEST_TEST + "    script: 1\n    device_number: 1\n    scenarios: '1-2'\n",
        14,
        "scenarios is for frame_type game_loop only",
    ),
    "wetest_test scenarios running backwards": (
        WETEST_TEST + "    frame_type: game_loop\n    device_number: 1\n    scenarios: '3-1'\n",
        14,
        "the range 3-1 runs backwards",
    ),
    "wetest_test without devices": (WETEST_TEST + "    script: 1\n", 8, "device_number (how many devices)"),
    "wetest_test device_choose_type without devices": (
        WETEST_TEST + "    script: 1\n    device_number: 1\n    device_choose_type: deviceids\n",
        14,
        "device_choose_type only applies together with devices",
    ),
    "wetest_test device runtime above the test's": (
        WETEST_TEST + "    script: 1\n    device_number: 1\n    max_test_runtime: 600\n    max_device_runtime: 900\n",
        15,
        "must not exceed max_test_runtime",
    ),
    "apptest_testset misspelling beside the name": (
        "  apptest_testset.s:\n    pid: 1\n    path: app.apk\n    testset_name: s\n    time_limit: 5\n    time_limmit: 5\n",
        13,
        "set time_limit only",
    ),
    "kyaraben_testsource computed filename": (
        "  kyaraben_testsource.s:\n    project: p\n    path: app.apk\n    filename: x.zip\n",
        11,
        "filename is computed from path",
    ),
    "wetest_app of a kind the cloud refuses": (
        "  wetest_app.a:\n    project: p\n    path: app.zip\n",
        10,
        "'app.zip' is not a kind of file the cloud accepts (.apk, .aab, .ipa)",
    ),
    "apptest_testset of a kind the cloud refuses": (
        "  apptest_testset.s:\n    pid: 1\n    path: app.exe\n    testset_name: s\n",
        10,
        "'app.exe' is not a kind of file the cloud accepts",
    ),
    "kyaraben_apk of a kind the cloud refuses": (
        "  kyaraben_apk.a:\n    project: p\n    path: app.zip\n",
        10,
        "'app.zip' is not a kind of file the cloud accepts (.apk)",
    ),
    "bitbar_file that is missing": (
        "  bitbar_file.f:\n    project: 1\n    kind: application\n    path: gone.apk\n",
        11,
        "cannot read 'gone.apk'",
    ),
    "wetest_script that is missing": ("  wetest_script.s:\n    path: gone.zip\n", 9, "cannot read 'gone.zip'"),
    "kyaraben_camera_file that is missing": (
        "  kyaraben_camera_file.c:\n    project: p\n    path: gone.png\n",
        10,
        "cannot read 'gone.png'",
    ),
    "kyaraben_testsource that is missing": (
        "  kyaraben_testsource.s:\n    project: p\n    path: gone.zip\n",
        10,
        "cannot read 'gone.zip'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_refuses_what_plan_refuses_locally(case, workdir, monkeypatch):
    block, line, message = CASES[case]
    monkeypatch.chdir(workdir.path)  # relative paths are read from here, as plan reads them
    for name in ("app.apk", "app.zip", "app.exe"):
        (workdir.path / name).write_bytes(build_apk())
    workdir.write(PROVIDERS + block)
    planned = workdir.plan()
    validated = workdir.run("validate", str(workdir.path))
    assert planned.exit_code == 1 and message in planned.stderr, planned.output
    assert validated.exit_code == 1, validated.output
    assert message in validated.stderr and f"main.yaml:{line}" in validated.stderr, validated.stderr


def test_validate_still_passes_a_plan_whose_files_are_there(workdir, monkeypatch):
    """References stay unknown (nothing is created yet), and an accepted file of the right kind passes."""
    monkeypatch.chdir(workdir.path)
    (workdir.path / "app.apk").write_bytes(build_apk())
    workdir.write(
        PROVIDERS
        + "  wetest_app.a:\n    project: p\n    path: app.apk\n"
        + "  wetest_test.t:\n    project: p\n    app: ${wetest_app.a.id}\n    cloud_id: 1\n    script: 1\n"
        + "    device_number: 1\n  perfecto_gate.g:\n    job_name: nightly\n    fail_on: [FAILED]\n"
    )
    validated = workdir.run("validate", str(workdir.path))
    assert validated.exit_code == 0, validated.output
    assert "The plan is valid: 3 resources" in validated.stdout


def test_validate_opens_each_file_but_hashes_none(workdir, monkeypatch):
    """validate checks that every file is there and of a kind the cloud takes, reading none of it:
    no digest is computed (plan computes them), so a large app costs validate nothing."""
    from labform.engine import runner
    from labform.providers import transfer

    monkeypatch.chdir(workdir.path)
    (workdir.path / "app.apk").write_bytes(build_apk())
    workdir.write(PROVIDERS + "  bitbar_file.f:\n    project: 1\n    kind: application\n    path: app.apk\n")
    before = dict(transfer._DIGESTS)
    runner.validate(runner.Workspace(workdir.path))
    assert before == transfer._DIGESTS  # nothing was hashed
    (workdir.path / "app.apk").unlink()
    with pytest.raises(Exception, match="cannot read 'app.apk'"):
        runner.validate(runner.Workspace(workdir.path))
