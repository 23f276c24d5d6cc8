"""WeTest fixtures: the emulator on loopback, found by plans through env vars as a user's CI would."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from providers.emulation import EmulatorApp, EmulatorServer
from providers.wetest import emulator as wetest_emulator
from tests.apps import build_apk, text_manifest
from tests.conftest import state_of

SECRET_ID = wetest_emulator.SANDBOX_SECRET_ID
SECRET_KEY = wetest_emulator.SANDBOX_SECRET_KEY

WETEST_PROVIDER = """providers:
  wetest:
    endpoint: ${env.WETEST_URL}
    secret_id: ${env.WETEST_SECRET_ID}
    secret_key: ${env.WETEST_SECRET_KEY}
"""

# An app and a script in the demo project; APP and SCRIPT are replaced by file paths.
UPLOADS = (
    WETEST_PROVIDER
    + """
resources:
  wetest_app.app:
    project: pj-demo
    path: APP
  wetest_script.appium:
    project: pj-demo
    path: SCRIPT
"""
)


@dataclass
class RunningWeTest:
    app: EmulatorApp
    server: EmulatorServer

    def api(self) -> httpx.Client:
        """A plain client to check results the way a user would, through the API."""
        return httpx.Client(base_url=self.server.url + "/cloudtest/v1", auth=(SECRET_ID, SECRET_KEY))

    def posts(self, path_end: str) -> list:
        return [r for r in self.app.log.matching("POST") if r.path.endswith(path_end)]


@pytest.fixture
def variant() -> str:
    """The doc reading the emulator is started with; parametrized by the tests that run on every one."""
    return "default"


@pytest.fixture
def wetest(emulator_options, variant, monkeypatch) -> RunningWeTest:
    app = wetest_emulator.build_app(emulator_options, variant)
    with EmulatorServer(app) as server:
        monkeypatch.setenv("WETEST_URL", server.url + "/cloudtest")
        monkeypatch.setenv("WETEST_SECRET_ID", SECRET_ID)
        monkeypatch.setenv("WETEST_SECRET_KEY", SECRET_KEY)
        yield RunningWeTest(app, server)


def write_app(workdir, name: str = "app.apk", version: str = "1.0"):
    path = workdir.path / name
    path.write_bytes(build_apk(text_manifest("com.labform.sample", version)))
    return path


def resources_of(workdir) -> dict:
    return state_of(workdir)["resources"]
