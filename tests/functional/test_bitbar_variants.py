"""The Bitbar provider against every server the doc allows: a small fixed set of plans, run on the
emulator started with each doc variant (providers/bitbar/emulator/variants.py).

The plans sign in with OAuth (username and password), so the token's journey is exercised on
every variant: in a header or in the URL, refreshed mid-apply (tokens live 61 s, refreshed 60 s
before they expire), and masked in the debug log whichever way it travelled.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from labform.providers.bitbar import emulator as bitbar_emulator
from labform.providers.bitbar.emulator import VARIANTS
from tests.apps import build_apk, text_manifest
from tests.conftest import state_of
from tests.fixtures.clouds import RunningBitbar, serve

EVERY_VARIANT = pytest.mark.parametrize("variant", sorted(VARIANTS))

OAUTH_PROVIDER = """providers:
  bitbar:
    endpoint: ${env.BITBAR_URL}
    username: ${env.BITBAR_USER}
    password: ${env.BITBAR_PASSWORD}
"""

# A project with its config, device group and files; RUN is replaced by a run's options.
PLAN = (
    OAUTH_PROVIDER
    + """
resources:
  bitbar_project.app:
    name: App
    type: ANDROID
  bitbar_device_group.phones:
    name: Phones
    os_type: ANDROID
    devices: [304, 337]
  bitbar_project_config.app:
    project: ${bitbar_project.app.id}
    used_device_group: ${bitbar_device_group.phones.id}
  bitbar_file.app:
    project: ${bitbar_project.app.id}
    kind: application
    path: APP
  bitbar_file.tests:
    project: ${bitbar_project.app.id}
    kind: test
    path: TESTS
"""
)

# Unnamed: labform names it (the table marks the name Required).
RUN = """  bitbar_run.smoke:
    project: ${bitbar_project.app.id}
    depends_on: [bitbar_project_config.app]
    triggers: ["${bitbar_file.app.sha256}", "${bitbar_file.tests.sha256}"]
    wait: {timeout: 60s, poll: 0.5s}
    OPTIONS
"""


@pytest.fixture
def bitbar(emulator_options, variant, monkeypatch) -> Iterator[RunningBitbar]:
    """The emulator reading the doc as ``variant``; plans find it and its OAuth user through env vars."""
    emulator_options.credentials["token_ttl"] = "61"
    with serve("bitbar", emulator_options, variant, monkeypatch) as (app, server):
        monkeypatch.setenv("BITBAR_USER", bitbar_emulator.SANDBOX_USERNAME)
        monkeypatch.setenv("BITBAR_PASSWORD", bitbar_emulator.SANDBOX_PASSWORD)
        yield RunningBitbar(app, server)


def write_plan(workdir, run_options: str | None = None) -> None:
    app, tests = workdir.path / "app.apk", workdir.path / "tests.apk"
    app.write_bytes(build_apk(text_manifest("com.labform.sample", "1.0")))
    tests.write_bytes(build_apk(text_manifest("com.labform.sample.test", "1.0", launcher=False)))
    text = PLAN + (RUN.replace("OPTIONS", run_options.replace("\n", "\n    ")) if run_options is not None else "")
    workdir.write(text.replace("APP", str(app)).replace("TESTS", str(tests)))


def tokens_issued(bitbar: RunningBitbar) -> set[str]:
    with bitbar.app.store.lock:
        return set(bitbar.app.store.data["accessTokens"]) | set(bitbar.app.store.data["refreshTokens"])


@EVERY_VARIANT
def test_apply_then_replan_is_empty_and_no_token_is_ever_shown(variant, running_clock, bitbar, workdir):
    """Project, config, device group, files and a run with wait, gate and JUnit: applied, then an empty
    plan; the debug log (httpx logs every URL) shows no token, whether it went in a header or the URL."""
    junit = workdir.path / "smoke.xml"
    write_plan(workdir, f"gate: {{min_success_ratio: 0.95}}\njunit: {junit}")
    applied = workdir.run("--log-level", "DEBUG", "apply", str(workdir.path), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert len(ET.parse(junit).getroot().findall("testsuite")) == 2
    again = workdir.run("--log-level", "DEBUG", "plan", str(workdir.path), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout
    logs = applied.output + again.output
    assert "HTTP Request: GET" in logs  # the debug log was on
    assert all(token not in logs for token in tokens_issued(bitbar))
    if variant == "token-in-url-only":
        assert "access_token=(sensitive)" in logs
    assert len(bitbar.app.log.matching(path_contains="/oauth/token")) >= 3  # a grant per command, and a refresh


@EVERY_VARIANT
def test_an_object_deleted_behind_labforms_back_is_seen_and_made_again(variant, bitbar, workdir):
    write_plan(workdir)
    assert workdir.apply().exit_code == 0
    group = state_of(workdir)["resources"]["bitbar_device_group.phones"]["id"]
    assert bitbar.api().delete(f"/api/v2/me/device-groups/{group}").status_code == 204
    plan = workdir.plan("--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "bitbar_device_group.phones will be created (gone from the cloud" in plan.stdout
    reapplied = workdir.apply()
    assert reapplied.exit_code == 0, reapplied.output
    assert state_of(workdir)["resources"]["bitbar_device_group.phones"]["id"] != group
    assert workdir.plan("--detailed-exitcode").exit_code == 0


@EVERY_VARIANT
def test_a_run_that_misses_its_gate_fails_with_its_junit_written(variant, half_failing, bitbar, workdir):
    """Half the cases fail (the seed): the run is waited for, JUnit names each device with its failures,
    and the gate fails the apply naming the ratio."""
    junit = workdir.path / "smoke.xml"
    write_plan(workdir, f"gate: {{min_success_ratio: 0.95}}\njunit: {junit}")
    result = workdir.apply()
    assert result.exit_code == 1
    assert "missed its gate: devices " in result.stdout
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == 2 and sum(int(s.get("failures")) for s in suites) > 0
    assert "bitbar_run.smoke" in state_of(workdir)["resources"]
