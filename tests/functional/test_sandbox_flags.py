"""The sandbox's knobs as flags, where it listens, and gate messages that agree with the JUnit they write.

The examples run as shipped on ``--sandbox`` (their emulators on loopback,
real HTTP); ``labform sandbox`` runs in its own process, as a user starts it.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.conftest import Workdir

KNOBS = ("--test-failure-share", "--failure-rate", "--latency", "--job-seconds", "--seed")


@pytest.mark.parametrize("command", [("sandbox",), ("plan",), ("apply",)])
def test_the_knobs_are_listed_in_help(workdir: Workdir, command):
    shown = workdir.run(*command, "--help").stdout
    assert all(knob in shown for knob in KNOBS), shown
    assert ("--listen" in shown) == (command == ("sandbox",))


def test_a_failing_bitbar_run_says_devices_and_tests_as_the_junit_counts_them(shipped_plans, workdir: Workdir):
    """Half the tests fail: the gate names devices succeeded (Bitbar's successRatio) and tests passed (the JUnit)."""
    applied = workdir.run("apply", "plans/bitbar-ci", "--sandbox", "-auto-approve", "--test-failure-share", "0.5")
    assert applied.exit_code == 1 and applied.exception is None, applied.output
    found = re.search(
        r"devices (\d+)/(\d+) succeeded \(success ratio (\d\.\d\d), below 0\.90\); tests (\d+)/(\d+) passed; "
        r"failing devices: ",
        applied.stdout,
    )
    assert found, applied.stdout
    succeeded, devices, ratio, passed, tests = found.groups()
    suites = ET.parse(shipped_plans / "reports" / "bitbar-smoke.xml").getroot().findall("testsuite")
    cases = [case for suite in suites for case in suite.findall("testcase")]
    failed = [case for case in cases if case.find("failure") is not None or case.find("error") is not None]
    assert int(devices) == len(suites) == 3
    assert (int(passed), int(tests)) == (len(cases) - len(failed), len(cases))
    assert 0 < len(failed) < len(cases)  # half the tests, so some passed: "nothing passed" would read wrong
    assert float(ratio) == pytest.approx(int(succeeded) / int(devices), abs=0.01)
    suites_clean = [s for s in suites if not any(c.find("failure") is not None for c in s.findall("testcase"))]
    assert int(succeeded) == len(suites_clean)


def test_a_failing_apptest_testset_says_devices_failed_as_junit_errors_naming_each_device(
    shipped_plans, workdir: Workdir
):
    applied = workdir.run("apply", "plans/apptest-smoke", "--sandbox", "-auto-approve", "--test-failure-share", "0.67")
    assert applied.exit_code == 1 and applied.exception is None, applied.output
    assert "2 devices failed (JUnit errors, as the cloud writes them), at most 0 allowed" in applied.stdout
    assert "of 3 devices: 1 passed, 2 failed, 0 errors" in applied.stdout
    cases = ET.parse(shipped_plans / "reports" / "apptest-smoke.xml").getroot().findall("testsuite/testcase")
    errors = [(case.get("name"), case.find("error")) for case in cases if case.find("error") is not None]
    assert len(errors) == 2
    for device, error in errors:
        assert re.fullmatch(rf"{re.escape(device)} did not pass: https?://\S+", error.get("message"))
        assert error.text == error.get("message")  # the run record keeps one message per attempt: device and URL


def test_without_a_share_the_examples_pass_and_a_knob_needs_the_sandbox(shipped_plans, workdir: Workdir):
    assert workdir.run("apply", "plans/apptest-smoke", "--sandbox", "-auto-approve").exit_code == 0
    alone = workdir.run("plan", "plans/apptest-smoke", "--test-failure-share", "0.5")
    assert alone.exit_code == 1 and "--test-failure-share tunes the built-in emulators: add --sandbox" in alone.stderr
    bad = workdir.run("plan", "plans/apptest-smoke", "--sandbox", "--failure-kinds", "nope")
    assert bad.exit_code == 1 and bad.exception is None and "sandbox:" in bad.stderr and "nope" in bad.stderr


def test_failure_rate_reaches_the_in_process_emulators(shipped_plans, workdir: Workdir):
    """Every request refused with a 500: the plan fails naming it, after its retries (no sleep in tests)."""
    planned = workdir.run(
        "plan", "plans/bitbar-quickstart", "--sandbox", "--failure-rate", "1", "--failure-kinds", "500"
    )
    assert planned.exit_code == 1 and planned.exception is None
    assert "500" in planned.stderr, planned.output


def start(*flags: str) -> tuple[subprocess.Popen[str], str, int, str]:
    """``labform sandbox --only bitbar FLAGS``: the process, its start line, the Bitbar port and its API key."""
    process = subprocess.Popen(
        [sys.executable, "-m", "labform.engine", "sandbox", "--only", "bitbar", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    port, key = 0, ""
    for line in iter(process.stdout.readline, ""):
        if line.startswith("bitbar "):
            port = int(re.search(r":(\d+) ", line).group(1))
            key = re.search(r'"api_key": "([^"]+)"', line).group(1)
        if line.startswith("Serving"):
            return process, line, port, key
    process.kill()
    raise AssertionError(f"the sandbox did not start: {process.communicate()[1]}")


def stopped(process: subprocess.Popen[str]) -> str:
    """Stop the sandbox; what it wrote on stderr."""
    process.terminate()
    return process.communicate(timeout=10)[1]


def answers(host: str, port: int, key: str) -> bool:
    try:
        return httpx.get(f"http://{host}:{port}/api/v2/me", auth=(key, ""), timeout=5).status_code == 200
    except httpx.ConnectError:
        return False


def test_the_sandbox_listens_on_loopback_only_and_says_so():
    """127.0.0.1 answers, 127.0.0.2 (another address of this machine's loopback net) does not: only the one address is bound."""
    process, line, port, key = start("--test-failure-share", "0.5")
    try:
        assert "Serving on 127.0.0.1 (loopback: only this machine reaches it; --listen HOST serves others)" in line
        assert "50% of simulated tests fail" in line
        assert answers("127.0.0.1", port, key)
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.2", port)) != 0
    finally:
        assert "Warning" not in stopped(process)


def test_listen_on_every_interface_warns_that_the_network_reaches_it():
    process, line, port, key = start("--listen", "0.0.0.0")
    try:
        assert "Serving on every interface (0.0.0.0: reachable from the network)" in line
        assert answers("127.0.0.1", port, key) and answers("127.0.0.2", port, key)
    finally:
        warned = stopped(process)
    assert "Warning: the sandbox listens on 0.0.0.0: anyone on the network who reaches this machine" in warned
