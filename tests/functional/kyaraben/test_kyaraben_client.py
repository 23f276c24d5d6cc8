"""What the kyaraben client does with what comes back: a malformed answer is a ProviderError
naming the cloud and the operation; the identity header's value never reaches output or state."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from labform.providers.emulation import EmulatorServer
from tests.functional.kyaraben.conftest import KYARABEN_PROVIDER, write_lab

LOOKUPS = (
    KYARABEN_PROVIDER
    + """
data:
  kyaraben_projects.all: {}
outputs:
  ids: ${data.kyaraben_projects.all.ids}
"""
)


def broken_server(body: bytes) -> Starlette:
    """Answers every listing of projects with ``body`` (status 200)."""

    async def projects(request):
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/projects", projects)])


@pytest.mark.parametrize(
    "body, said",
    [
        (b'{"projects": [', "the answer is not a JSON object with 'projects' ('{\"projects\": [')"),
        (b'{"items": []}', "the answer is not a JSON object with 'projects' ('{\"items\": []}')"),
    ],
)
def test_a_malformed_answer_is_an_error_naming_the_cloud_and_the_operation(body, said, workdir, monkeypatch):
    with EmulatorServer(broken_server(body)) as server:
        monkeypatch.setenv("KYARABEN_URL", server.url)
        monkeypatch.setenv("KYARABEN_AUTH_VALUE", "someone")
        workdir.write(LOOKUPS)
        result = workdir.plan()
    assert result.exit_code == 1
    assert f"kyaraben: list projects failed (200): {said}" in result.output


def test_the_identity_never_reaches_output_logs_or_state(running_clock, kyaraben, workdir, monkeypatch):
    monkeypatch.setenv("KYARABEN_AUTH_VALUE", "ci-user-7f3a")
    write_lab(workdir)
    result = workdir.run("--log-level", "DEBUG", "apply", str(workdir.path), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "ci-user-7f3a" not in result.output
    assert "ci-user-7f3a" not in workdir.state_file.read_text()
    assert {p["owner"] for p in kyaraben.records("projects")} == {"ci-user-7f3a"}  # the identity arrived
    assert {r.headers["x-auth-userid"] for r in kyaraben.app.log.all()} == {"(sensitive)"}  # and is logged masked


def test_a_project_is_found_by_name(running_clock, kyaraben, workdir):
    project = kyaraben.api().post("/projects", json={"project_name": "shared lab"}).json()["project_id"]
    workdir.write(
        KYARABEN_PROVIDER
        + """
data:
  kyaraben_projects.shared: {project_name: shared lab}
  kyaraben_quota.mine: {}
  kyaraben_images.lollipop: {android_version: 5}
outputs:
  id: ${data.kyaraben_projects.shared.id}
  live: ${data.kyaraben_quota.mine.vm_live_max}
  images: ${data.kyaraben_images.lollipop.names}
"""
    )
    assert workdir.apply().exit_code == 0
    outputs = json.loads(workdir.run("output", str(workdir.path), "-json").stdout)
    assert {name: output["value"] for name, output in outputs.items()} == {
        "id": project,
        "live": 3,
        "images": ["lollipop-tablet", "lollipop-phone"],
    }
