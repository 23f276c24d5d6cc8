"""apptest.ai plans for the tests; the ``apptest`` fixture is in tests/fixtures/clouds.py."""

from __future__ import annotations

from labform.providers.apptest import emulator as apptest_emulator
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


def recorded_testset(workdir) -> dict:
    return state_of(workdir)["resources"]["apptest_testset.smoke"]
