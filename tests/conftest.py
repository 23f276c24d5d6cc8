"""Shared fixtures: emulator options, inline plan files, the CLI in-process (each cloud's
emulator on loopback is in tests/fixtures/clouds.py, loaded as a plugin below).

Tests talk to the emulators over real HTTP; nothing here patches httpx or a
provider. Environment variables (endpoint, key) are how the plans find the
emulator, exactly as a user's CI would set them.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from labform.engine.cli import main
from labform.providers.bitbar import emulator as bitbar_emulator
from labform.providers.emulation import Clock, EmulatorOptions

# Each cloud's emulator fixture, and the PostgreSQL state server's.
pytest_plugins = ["tests.fixtures.clouds", "tests.fixtures.postgres"]

BITBAR_KEY = bitbar_emulator.SANDBOX_API_KEY


def pytest_configure(config: pytest.Config) -> None:
    """Retries in the suite, in-process and in the CLI's subprocesses, skip their backoff's sleep
    (``labform.providers.http.retry_sleep``); the tests of the delays record them through an injected ``sleep``."""
    os.environ["LABFORM_RETRY_SLEEP"] = "none"


@pytest.fixture
def emulator_options() -> EmulatorOptions:
    return EmulatorOptions(clock=Clock(speed=0), retry_after=0)


@pytest.fixture
def running_clock(emulator_options):
    """Runs take about a second of real time, so 'wait' has something to wait for."""
    emulator_options.clock = Clock(speed=1.0)
    emulator_options.job_duration = 1.0


@pytest.fixture
def half_failing(running_clock, emulator_options):
    """Half of the simulated test cases (or devices) fail, chosen by the emulator's seed."""
    emulator_options.failure_share = 0.5


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Workdir:
    """A temporary folder holding a plan; ``run`` invokes labform on it."""

    def __init__(self, path: Path):
        self.path = path
        self.state_file = path / "labform.state.json"

    def write(self, text: str, name: str = "main.yaml") -> Path:
        target = self.path / name
        target.write_text(textwrap.dedent(text))
        return target

    def run(self, *args: str, input: str | None = None) -> CliResult:
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=True)
        unexpected = result.exception if not isinstance(result.exception, SystemExit) else None
        return CliResult(result.exit_code, result.stdout, result.stderr, unexpected)

    def apply(self, *extra: str) -> CliResult:
        return self.run("apply", str(self.path), "--auto-approve", *extra)

    def plan(self, *extra: str) -> CliResult:
        return self.run("plan", str(self.path), *extra)


def state_of(workdir: Workdir) -> dict:
    """The state file labform wrote, as JSON."""
    return json.loads(workdir.state_file.read_text())


@pytest.fixture
def workdir(tmp_path) -> Workdir:
    return Workdir(tmp_path)


BITBAR_PROVIDER = """providers:
  bitbar:
    endpoint: ${env.BITBAR_URL}
    api_key: ${env.BITBAR_API_KEY}
"""


SHIPPED_PLANS = Path(__file__).resolve().parents[1] / "plans"
# Every variable the example plans read a cloud's address or key from: a developer's own must not leak in.
CLOUD_ENV = (
    "BITBAR_URL",
    "BITBAR_API_KEY",
    "WETEST_URL",
    "WETEST_SECRET_ID",
    "WETEST_SECRET_KEY",
    "APPTEST_URL",
    "APPTEST_USER_ID",
    "APPTEST_ACCESS_KEY",
    "KYARABEN_URL",
    "KYARABEN_AUTH_VALUE",
    "PERFECTO_CLOUD",
    "PERFECTO_ENDPOINT",
    "PERFECTO_SECURITY_TOKEN",
    "PERFECTO_TOKEN_HEADER",
)


@pytest.fixture
def shipped_plans(workdir: Workdir, monkeypatch) -> Path:
    """A copy of plans/ as the repository ships it (no state, sandbox data or reports a demo run by hand
    leaves) as the working directory, quick sandbox jobs, and no real cloud's settings in the environment."""
    for name in CLOUD_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LABFORM_SANDBOX_JOB_SECONDS", "1")
    shutil.copytree(
        SHIPPED_PLANS,
        workdir.path / "plans",
        ignore=shutil.ignore_patterns("*.state.json*", "*.state.sandbox", "*.sandbox.json", "reports"),
    )
    monkeypatch.chdir(workdir.path)
    return workdir.path
