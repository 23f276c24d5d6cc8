"""WeTest plans and files for the tests; the ``wetest`` fixture is in tests/fixtures/clouds.py."""

from __future__ import annotations

from labform.providers.wetest import emulator as wetest_emulator
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


def write_app(workdir, name: str = "app.apk", version: str = "1.0"):
    path = workdir.path / name
    path.write_bytes(build_apk(text_manifest("com.labform.sample", version)))
    return path


def resources_of(workdir) -> dict:
    return state_of(workdir)["resources"]
