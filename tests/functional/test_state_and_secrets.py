"""State safety (saved plans, locking, file mode) and keeping the API key out of every output."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time

import pytest

from tests.conftest import BITBAR_KEY, BITBAR_PROVIDER

PLAN = (
    BITBAR_PROVIDER
    + """
resources:
  bitbar_project.checkout:
    name: Checkout flow
    type: ANDROID
  bitbar_project_config.checkout:
    project: ${bitbar_project.checkout.id}
    application_username: robot
    application_password: hunter2-very-secret
"""
)


def test_saved_plan_applies_exactly_and_only_once(bitbar, workdir):
    """'plan -out' then 'apply FILE' applies that plan; applying the same file again is refused."""
    workdir.write(PLAN)
    planfile = workdir.path / "tfplan"
    made = workdir.plan("-out", str(planfile))
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(planfile.stat().st_mode) == 0o600
    applied = workdir.run("apply", str(planfile))
    assert applied.exit_code == 0, applied.output
    assert "2 added" in applied.stdout
    again = workdir.run("apply", str(planfile))
    assert again.exit_code == 1
    assert "is stale: state moved from serial 0" in again.stderr


def test_saved_plan_refused_when_plan_files_changed(bitbar, workdir):
    """Editing a plan file after 'plan -out' makes the saved plan unusable."""
    workdir.write(PLAN)
    planfile = workdir.path / "tfplan"
    assert workdir.plan("-out", str(planfile)).exit_code == 0
    workdir.write(PLAN.replace("Checkout flow", "Checkout flow 2"))
    result = workdir.run("apply", str(planfile))
    assert result.exit_code == 1
    assert "plan files changed since it was made (main.yaml)" in result.stderr.replace(str(workdir.path) + "/", "")
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []


@pytest.fixture
def slow_bitbar(emulator_options):
    emulator_options.latency = 0.3
    return emulator_options


def test_concurrent_apply_is_blocked_by_the_lock(slow_bitbar, bitbar, workdir):
    """While one apply runs, a second fails at once naming the holder; force-unlock clears a stale lock."""
    workdir.write(PLAN)
    first: dict = {}
    thread = threading.Thread(target=lambda: first.setdefault("result", workdir.apply()))
    thread.start()
    deadline = time.monotonic() + 5
    lock = workdir.path / "labform.state.json.lock"
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    second = workdir.apply()
    assert time.monotonic() - started < 2
    assert second.exit_code == 1
    assert f"held by pid {os.getpid()}" in second.stderr
    assert "for 'apply'" in second.stderr
    thread.join()
    assert first["result"].exit_code == 0, first["result"].output

    # A lock file whose holder is gone (no process holds its flock) is taken over, naming who left it.
    lock.write_text(json.dumps({"pid": 99999, "host": "ci-runner-7", "time": "then", "operation": "apply"}))
    taken_over = workdir.plan()
    assert taken_over.exit_code == 0 and "ci-runner-7" in taken_over.stderr
    assert not lock.exists()


def test_state_file_is_private_and_holds_no_secret(bitbar, workdir):
    """State is mode 0600, has serial/lineage, and neither the API key nor the password."""
    workdir.write(PLAN)
    assert workdir.apply().exit_code == 0
    assert stat.S_IMODE(workdir.state_file.stat().st_mode) == 0o600
    text = workdir.state_file.read_text()
    state = json.loads(text)
    assert state["serial"] >= 2 and state["lineage"]
    assert state["resources"]["bitbar_project.checkout"]["type"] == "bitbar_project"
    assert BITBAR_KEY not in text
    assert "hunter2-very-secret" not in text
    assert state["resources"]["bitbar_project_config.checkout"]["attributes"]["application_password"].startswith(
        "scrypt:"
    )


def test_secrets_never_reach_plan_json_or_logs(bitbar, workdir, caplog):
    """Plan text, -json, apply output and debug logs show (sensitive), never the key or password."""
    workdir.write(PLAN)
    caplog.set_level(logging.DEBUG)
    outputs = [
        workdir.run("--log-level", "DEBUG", "plan", str(workdir.path)),
        workdir.run("plan", str(workdir.path), "-json"),
        workdir.run("--log-level", "DEBUG", "apply", str(workdir.path), "--auto-approve"),
    ]
    workdir.write(PLAN.replace("hunter2-very-secret", "hunter3-even-more-secret"))
    outputs.append(workdir.plan())
    outputs.append(workdir.run("state", "show", "bitbar_project_config.checkout", str(workdir.path)))
    everything = "".join(r.output for r in outputs) + caplog.text
    for secret in (BITBAR_KEY, "hunter2-very-secret", "hunter3-even-more-secret"):
        assert secret not in everything
    assert "(sensitive)" in outputs[0].stdout
    assert "application_password" in outputs[3].stdout  # the change is still visible, masked
    plan_json = json.loads(outputs[1].stdout)
    config = next(c for c in plan_json["resource_changes"] if c["address"] == "bitbar_project_config.checkout")
    assert config["change"]["after"]["application_password"] is None
    assert config["change"]["after_sensitive"]["application_password"] is True


def test_provider_error_does_not_leak_the_key(bitbar, workdir, monkeypatch):
    """A wrong key is a clean 401 error; the key itself is not echoed back."""
    monkeypatch.setenv("BITBAR_API_KEY", "wrong-key-0123456789")
    workdir.write(PLAN)
    result = workdir.plan()
    assert result.exit_code == 1
    assert "bitbar:" in result.stderr and "(401)" in result.stderr
    assert "wrong-key-0123456789" not in result.output
