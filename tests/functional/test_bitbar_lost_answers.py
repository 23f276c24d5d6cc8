"""Bitbar answers lost or garbled after the cloud acted: never None in resource code, a create found
by its natural key still gets its later steps, and a garbled junit.xml is read again."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from labform.providers.bitbar import emulator
from labform.providers.bitbar.client import BitbarClient
from labform.providers.emulation.options import FAULTS_AFTER
from labform.providers.errors import ProviderError
from tests.conftest import state_of
from tests.functional.test_bitbar_runs import write_plan

# At 30% faults this seed loses the answers of the project's and the group's creates, and (for
# ``malformed``) garbles a junit.xml download.
SEED = 4


def client(url: str) -> BitbarClient:
    return BitbarClient(url, emulator.SANDBOX_API_KEY, None, None, timeout=5)


def test_a_garbled_answer_to_a_create_is_an_ambiguous_error_never_none(emulator_options, bitbar):
    """An HTML page, a cut or an empty body in answer to a create: a ProviderError naming the cloud
    and the operation, marked ambiguous (the project was made), never a None for the caller."""
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("malformed",)
    said = []
    for index in range(8):
        with pytest.raises(ProviderError) as caught:
            client(bitbar.url).post("/api/v2/me/projects", "create project", {"name": f"p{index}", "type": "ANDROID"})
        assert (caught.value.cloud, caught.value.operation, caught.value.ambiguous) == (
            "bitbar",
            "create project",
            True,
        )
        said.append(caught.value.message)
    assert any("an empty body" in message for message in said), said  # the case that used to come back as None
    emulator_options.failure_rate = 0.0
    assert len(bitbar.api().get("/api/v2/me/projects").json()["data"]) == 8


def test_a_garbled_answer_to_a_post_the_doc_answers_with_an_empty_string_is_a_success(emulator_options, bitbar):
    """Adding a device to a group answers "(empty string)": whatever body comes with the 201, it is not read."""
    group = client(bitbar.url).post(
        "/api/v2/me/device-groups", "create device group", {"name": "g", "osType": "ANDROID"}
    )
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("malformed",)
    for device in (304, 321, 337):
        client(bitbar.url).post_empty(
            f"/api/v2/me/device-groups/{group['id']}/devices", "add device to group", {"id": device}, idempotent=True
        )
    emulator_options.failure_rate = 0.0
    members = bitbar.api().get(f"/api/v2/me/device-groups/{group['id']}/devices").json()["data"]
    assert sorted(d["id"] for d in members) == [304, 321, 337]


@pytest.mark.parametrize("kind", FAULTS_AFTER)
def test_lost_answers_still_converge_in_one_apply(kind, running_clock, bitbar, workdir):
    """At 30% lost answers, one apply makes every object once, with the description and members a
    found create still owed, and JUnit from readable junit.xml files; the plan after it is empty."""
    junit = workdir.path / "junit.xml"
    write_plan(workdir, f"wait: {{timeout: 60s, poll: 1s}}\njunit: {junit}")
    plan = workdir.path / "main.yaml"
    plan.write_text(plan.read_text().replace("    type: ANDROID\n", "    type: ANDROID\n    description: managed\n", 1))
    bitbar.app.options.failure_kinds, bitbar.app.options.failure_rate, bitbar.app.options.seed = (kind,), 0.3, SEED
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    for address in ("bitbar_project.ci", "bitbar_device_group.ci"):
        assert f"{address}: " in result.output and "found what the create made by its natural key" in result.output, (
            result.output
        )
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == 3
    if kind == "malformed":
        downloads = [r for r in bitbar.app.log.matching("GET") if r.path.endswith("/junit.xml")]
        assert len(downloads) > 3  # one was garbled and read again

    bitbar.app.options.failure_rate = 0.0
    api, resources = bitbar.api(), state_of(workdir)["resources"]
    projects = api.get("/api/v2/me/projects").json()["data"]
    assert [(p["name"], p["description"]) for p in projects] == [("CI", "managed")]
    groups = api.get("/api/v2/me/device-groups").json()["data"]
    assert [g["displayName"] for g in groups] == ["CI phones"]
    members = api.get(f"/api/v2/me/device-groups/{resources['bitbar_device_group.ci']['id']}/devices").json()["data"]
    assert sorted(d["id"] for d in members) == [304, 321, 337]
    assert len(api.get(f"/api/v2/me/projects/{projects[0]['id']}/runs").json()["data"]) == 1
    bitbar.app.options.failure_rate = 0.3
    again = workdir.plan("--detailed-exitcode")
    assert again.exit_code == 0, again.output
