"""apptest.ai fixtures: the emulator on loopback, found by plans through env vars as a user's CI would."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from providers.apptest import emulator as apptest_emulator
from providers.emulation import EmulatorApp, EmulatorServer
from tests.conftest import state_of

USER_ID = apptest_emulator.SANDBOX_USER_ID
ACCESS_KEY = apptest_emulator.SANDBOX_ACCESS_KEY

APPTEST_PROVIDER = """providers:
  apptest:
    endpoint: ${env.APPTEST_URL}
    user_id: ${env.APPTEST_USER_ID}
    access_key: ${env.APPTEST_ACCESS_KEY}
    maintenance_timeout: ${env.APPTEST_MAINTENANCE_TIMEOUT:-5m}
"""


@dataclass
class RunningAppTest:
    app: EmulatorApp
    server: EmulatorServer

    def api(self) -> httpx.Client:
        """A plain client to check results the way a user would, through the API."""
        return httpx.Client(base_url=self.server.url + "/openapi/v2/testset", auth=(USER_ID, ACCESS_KEY))

    def starts(self) -> int:
        return len(self.app.log.matching("POST", "/openapi/v2/testset"))

    def stored_testsets(self) -> list[dict]:
        return list(self.app.store.data["testsets"].values())

    def lose(self, testset_id: int) -> None:
        """Make the emulator lose a testset's data, through its control API (the doc has no delete call)."""
        response = httpx.delete(f"{self.server.url}/_emulator/testsets/{testset_id}")
        assert response.json() == {"dropped": True}


@pytest.fixture
def variant() -> str:
    """The doc reading the emulator is started with; parametrized by the tests that run on every one."""
    return "default"


@pytest.fixture
def apptest(emulator_options, variant, monkeypatch) -> RunningAppTest:
    app = apptest_emulator.build_app(emulator_options, variant)
    with EmulatorServer(app) as server:
        monkeypatch.setenv("APPTEST_URL", server.url)
        monkeypatch.setenv("APPTEST_USER_ID", USER_ID)
        monkeypatch.setenv("APPTEST_ACCESS_KEY", ACCESS_KEY)
        yield RunningAppTest(app, server)


def recorded_testset(workdir) -> dict:
    return state_of(workdir)["resources"]["apptest_testset.smoke"]
