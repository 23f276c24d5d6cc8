"""The Bitbar emulator over real HTTP: every documented endpoint is routed, the doc's
example requests get the doc's statuses, keys and types (the doc is the oracle:
tests/emulators/bitbar_examples.json), and auth, lists, parameters, runs, faults,
persistence and each doc variant behave as the doc says."""

from __future__ import annotations

import io
import itertools
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from providers.bitbar.emulator import (
    AUTH_REQUIRED,
    SANDBOX_API_KEY,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    VARIANTS,
    build_app,
)
from providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer
from tests.emulators.endpoint_rows import EndpointRow, rows_for

JSON = {"Accept": "application/json"}
KEY_AUTH = (SANDBOX_API_KEY, "")
JOB = 100.0
ROWS = rows_for("bitbar")
_unique = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_unique)}"


def data_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sdcard/fixture.txt", "fixture")
    return buffer.getvalue()


Served = tuple[EmulatorApp, httpx.Client]


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """Start an emulator with the given options; each gets a JSON client using the API key."""
    started: list[tuple[EmulatorServer, httpx.Client]] = []

    def start(variant: str = "default", **options: Any) -> Served:
        options.setdefault("clock", Clock(speed=0))
        options.setdefault("job_duration", JOB)
        app = build_app(EmulatorOptions(**options), variant)
        server = EmulatorServer(app).start()
        client = httpx.Client(base_url=server.url, auth=KEY_AUTH, headers=JSON, timeout=10)
        started.append((server, client))
        return app, client

    yield start
    for server, client in started:
        client.close()
        server.stop()


def create_project(client: httpx.Client) -> dict[str, Any]:
    response = client.post("/api/v2/me/projects", data={"name": unique("project"), "type": "ANDROID"})
    assert response.status_code == 201, response.text
    return response.json()


def upload(client: httpx.Client, project_id: int, kind: str, name: str, content: bytes) -> dict[str, Any]:
    response = client.post(f"/api/v2/me/projects/{project_id}/files/{kind}", files={"file": (name, content)})
    assert response.status_code == 201, response.text
    return response.json()


def create_group(client: httpx.Client, device_ids: list[int]) -> int:
    group = client.post("/api/v2/me/device-groups", data={"name": unique("group"), "osType": "ANDROID"}).json()
    for device_id in device_ids:
        assert client.post(f"/api/v2/me/device-groups/{group['id']}/devices", data={"id": device_id}).status_code == 201
    return group["id"]


def runnable_project(client: httpx.Client, device_ids: list[int], **config: str) -> tuple[int, int]:
    """A project with an app, a test file and its own device group; returns (project id, group id)."""
    project_id = create_project(client)["id"]
    upload(client, project_id, "application", "app.apk", b"apk bytes")
    upload(client, project_id, "test", "app-test.apk", b"test apk bytes")
    group_id = create_group(client, device_ids)
    response = client.post(f"/api/v2/me/projects/{project_id}/config", data={"usedDeviceGroupId": group_id, **config})
    assert response.status_code == 201, response.text
    return project_id, group_id


# ---------------------------------------------------------------- every documented endpoint is routed


@pytest.fixture(scope="module")
def shared() -> Iterator[Served]:
    app = build_app(EmulatorOptions(clock=Clock(speed=0), job_duration=JOB, failure_share=0.3))
    with (
        EmulatorServer(app) as server,
        httpx.Client(base_url=server.url, auth=KEY_AUTH, headers=JSON, timeout=10) as client,
    ):
        yield app, client


def seed_world(app: EmulatorApp, client: httpx.Client) -> dict[str, Any]:
    """One of everything, made through the API, with the ids the endpoint paths need."""
    project_id, group_id = runnable_project(client, [304, 337])
    base = f"/api/v2/me/projects/{project_id}"
    upload(client, project_id, "data", "data.zip", data_zip())
    parameter = client.post(f"{base}/config/parameters", data={"key": "devel", "value": "true"}).json()
    sharing = client.post(f"{base}/sharings", data={"email": f"{unique('friend')}@example.com"}).json()
    notification = client.post(
        "/api/v2/me/notifications", data={"email": f"{unique('me')}@example.com", "type": "ALWAYS"}
    ).json()
    run = client.post(f"{base}/runs", data={"name": "coverage"}).json()
    tag = client.post(f"{base}/runs/{run['id']}/tags", data={"name": "nightly"}).json()
    app.clock.advance(JOB)
    assert client.post(f"{base}/runs/{run['id']}/screenshots.zip").status_code == 201
    app.clock.advance(JOB)
    device_run = client.get(f"{base}/runs/{run['id']}/device-runs").json()["data"][0]
    state = client.get(f"{base}/runs/{run['id']}/device-runs/{device_run['id']}/states").json()["data"][0]
    screenshot = client.get(f"{base}/runs/{run['id']}/screenshots").json()["data"][0]
    return {
        "projectId": project_id,
        "parameterId": parameter["id"],
        "sharingId": sharing["id"],
        "runId": run["id"],
        "deviceRunId": device_run["id"],
        "stateId": state["id"],
        "screenshotId": screenshot["id"],
        "tagId": tag["id"],
        "deviceGroupId": group_id,
        "deviceId": 337,
        "id": notification["id"],
    }


P = "/api/v2/me/projects/{projectId}"
R = P + "/runs/{runId}"


def row_arguments(row: EndpointRow) -> dict[str, Any]:
    """What a well-formed request to ``row`` sends besides its path."""
    email = f"{unique('someone')}@example.com"
    arguments: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/oauth/token"): {
            "data": {
                "client_id": "testdroid-cloud-api",
                "grant_type": "password",
                "username": SANDBOX_USERNAME,
                "password": SANDBOX_PASSWORD,
            },
            "auth": None,
        },
        ("POST", "/api/v2/me/projects"): {"data": {"name": unique("project"), "type": "ANDROID"}},
        ("POST", "/api/v2/me/projects/{projectID}"): {"data": {"name": unique("renamed")}},
        ("POST", P + "/config"): {"data": {"scheduler": "SERIAL"}},
        ("POST", P + "/config/parameters"): {"data": {"key": unique("key"), "value": "1"}},
        ("POST", P + "/files/application"): {"files": {"file": ("app.apk", b"new apk")}},
        ("POST", P + "/files/test"): {"files": {"file": ("app-test.apk", b"new test apk")}},
        ("POST", P + "/files/data"): {"files": {"file": ("data.zip", data_zip())}},
        ("POST", P + "/sharings"): {"data": {"email": email}},
        ("POST", P + "/runs"): {"data": {"name": "another"}},
        ("POST", R): {"data": {"name": "renamed run"}},
        ("POST", R + "/tags"): {"data": {"name": unique("tag")}},
        ("POST", "/api/v2/me/device-groups"): {"data": {"name": unique("group"), "osType": "ANDROID"}},
        ("POST", "/api/v2/me/device-groups/{deviceGroupId}"): {"data": {"name": unique("group")}},
        ("POST", "/api/v2/me/device-groups/{deviceGroupId}/devices"): {"data": {"id": 300}},
        ("POST", "/api/v2/me/notifications"): {"data": {"email": email, "type": "ON_FAILURE"}},
        ("POST", P + "/notifications"): {"data": {"email": email, "type": "ALWAYS"}},
        ("POST", "/api/v2/me/notification/{id}"): {"data": {"type": "ON_FAILURE"}},
    }
    if "/reports/" in row.path:
        return {"params": {"type": "CSV"}}
    return arguments.get((row.method, row.path), {})


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.method} {r.path}" for r in ROWS])
def test_every_documented_endpoint_is_routed(shared: Served, row: EndpointRow) -> None:
    """Each documented endpoint, asked well after a world was seeded, answers neither 404 nor 405."""
    app, client = shared
    ids = seed_world(app, client)
    response = client.request(row.method, row.filled(ids), **row_arguments(row))
    assert response.status_code not in (404, 405), response.text
    assert response.status_code < 400, response.text


def test_the_endpoint_list_has_all_74_documented_bitbar_rows() -> None:
    assert len(ROWS) == 74


# The doc's examples use paths its templates lack: the apiKey example's /api/me (served with its
# /api/v2 twin, where v2 clients ask) and the screenshots under a device run.
EXAMPLE_PATHS = [
    "/api/me",
    "/api/v2/me",
    R + "/device-runs/{deviceRunId}/screenshots",
    R + "/device-runs/{deviceRunId}/screenshots/{screenshotId}",
]


@pytest.mark.parametrize("path", EXAMPLE_PATHS)
def test_the_paths_of_the_docs_examples_are_routed_too(shared: Served, path: str) -> None:
    app, client = shared
    ids = seed_world(app, client)
    response = client.get(EndpointRow("bitbar", "GET", path, "").filled(ids))
    assert response.status_code == 200, response.text
    if path.endswith("/screenshots"):  # only that device run's
        assert response.json()["total"] > 0
        assert {shot["id"] // 100 for shot in response.json()["data"]} == {ids["deviceRunId"]}


LIST_ROWS = [
    r for r in ROWS if r.method == "GET" and r.what.startswith("Get list of") and not r.path.endswith("/performance")
]


def test_limit_0_lists_every_item_on_every_list_endpoint(serve) -> None:
    """limit=0 is how Bitbar clients list everything (the doc lists no 400 for a list): each of the
    17 list endpoints answers all its items on one page, even with a page size of 1."""
    app, client = serve(page_size=1)
    ids = seed_world(app, client)
    assert len(LIST_ROWS) == 17
    for row in LIST_ROWS:
        body = client.get(row.filled(ids), params={"limit": 0}).json()
        assert (len(body["data"]), body["next"], body["limit"]) == (body["total"], None, 0), row.path
    assert len(client.get("/api/v2/devices", params={"limit": 0}).json()["data"]) == 60


# ---------------------------------------------------------------- auth


def test_missing_credentials_get_the_documented_error_object(serve) -> None:
    _, client = serve()
    response = httpx.get(f"{client.base_url}/api/v2/me/projects", headers=JSON)
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "message": AUTH_REQUIRED}
    assert client.get("/api/v2/me/projects").status_code == 200
    assert client.get("/api/v2/me/projects", auth=("wrong-key", "")).status_code == 401
    # The device catalogue is documented as available without authorization.
    assert httpx.get(f"{client.base_url}/api/v2/devices", headers=JSON).status_code == 200


def test_oauth_password_and_refresh_grants_give_bearer_tokens(serve) -> None:
    _, client = serve()
    form = {
        "client_id": "testdroid-cloud-api",
        "grant_type": "password",
        "username": SANDBOX_USERNAME,
        "password": SANDBOX_PASSWORD,
    }
    granted = client.post("/oauth/token", data=form, auth=None)
    assert granted.status_code == 200
    body = granted.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599 and body["scope"] == "read write"
    bearer = {"Authorization": f"Bearer {body['access_token']}", **JSON}
    assert httpx.get(f"{client.base_url}/api/v2/me/projects", headers=bearer).status_code == 200

    # The doc's own example: GET with the query string.
    refresh = {
        "client_id": "testdroid-cloud-api",
        "grant_type": "refresh_token",
        "refresh_token": body["refresh_token"],
    }
    refreshed = httpx.get(f"{client.base_url}/oauth/token", params=refresh)
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] == body["refresh_token"]
    assert refreshed.json()["access_token"] != body["access_token"]
    bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}", **JSON}
    assert httpx.get(f"{client.base_url}/api/v2/me/projects", headers=bearer).status_code == 200

    wrong = client.post("/oauth/token", data={**form, "password": "nope"}, auth=None)
    assert wrong.status_code == 401 and wrong.json()["statusCode"] == 401
    assert client.post("/oauth/token", data={**form, "client_id": "other"}, auth=None).status_code == 401
    assert client.post("/oauth/token", data={**form, "grant_type": "magic"}, auth=None).status_code == 400


def password_grant(client: httpx.Client) -> dict[str, Any]:
    form = {
        "client_id": "testdroid-cloud-api",
        "grant_type": "password",
        "username": SANDBOX_USERNAME,
        "password": SANDBOX_PASSWORD,
    }
    return client.post("/oauth/token", data=form, auth=None).json()


# Where each variant takes the access token: (in the URL, in a Bearer header).
TOKEN_PLACES = {"default": (True, True), "token-in-url-only": (True, False), "token-in-header-only": (False, True)}


@pytest.mark.parametrize("variant", sorted(TOKEN_PLACES))
def test_the_access_token_is_taken_in_the_url_as_the_doc_says_or_in_a_bearer_header(serve, variant: str) -> None:
    _, client = serve(variant)
    token = password_grant(client)["access_token"]
    in_url = httpx.get(f"{client.base_url}/api/v2/me/projects", params={"access_token": token}, headers=JSON)
    in_header = httpx.get(f"{client.base_url}/api/v2/me/projects", headers={"Authorization": f"Bearer {token}", **JSON})
    assert (in_url.status_code == 200, in_header.status_code == 200) == TOKEN_PLACES[variant]
    refused = in_header if in_url.status_code == 200 else in_url
    if refused.status_code != 200:  # a token where this server does not look is no credential at all
        assert refused.json() == {"statusCode": 401, "message": AUTH_REQUIRED}
    wrong = httpx.get(
        f"{client.base_url}/api/v2/me/projects",
        params={"access_token": "not-a-token"},
        headers={"Authorization": "Bearer not-a-token", **JSON},
    )
    assert wrong.status_code == 401
    # The device catalogue needs no auth, whatever credentials come along.
    assert (
        httpx.get(f"{client.base_url}/api/v2/devices", params={"access_token": "not-a-token"}, headers=JSON).status_code
        == 200
    )


def test_an_expired_token_is_refused(serve) -> None:
    _, client = serve(credentials={"token_ttl": "0"})
    form = {
        "client_id": "testdroid-cloud-api",
        "grant_type": "password",
        "username": SANDBOX_USERNAME,
        "password": SANDBOX_PASSWORD,
    }
    token = client.post("/oauth/token", data=form, auth=None).json()["access_token"]
    response = httpx.get(f"{client.base_url}/api/v2/me/projects", headers={"Authorization": f"Bearer {token}", **JSON})
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


# ---------------------------------------------------------------- lists, XML


def test_search_pages_walk_next_links_to_the_total(serve) -> None:
    _, client = serve(page_size=5)
    url: str | None = f"{client.base_url}/api/v2/devices?search=Sony"
    seen, pages = [], []
    while url:
        page = client.get(url).json()
        assert set(page) == {"next", "previous", "data", "offset", "limit", "total", "search", "sort", "empty"}
        assert page["limit"] == 5 and page["search"] == "Sony"
        pages.append(page)
        seen += page["data"]
        url = page["next"]
    assert len(seen) == pages[0]["total"] == 21
    assert len({d["id"] for d in seen}) == 21
    assert all("sony" in d["displayName"].lower() for d in seen)
    assert 304 in {d["id"] for d in seen}
    assert pages[0]["previous"] is None and pages[1]["previous"].startswith("http://127.0.0.1")
    assert [p["offset"] for p in pages] == [0, 5, 10, 15, 20]
    assert not pages[-1]["empty"]


def test_sort_is_applied_where_it_names_a_field_and_never_refused(serve) -> None:
    """The doc gives sort no syntax and lists no 400: name, <field>_a/_d sort; anything else is ignored."""
    _, client = serve()

    def names(sort: str) -> list[str]:
        response = client.get("/api/v2/devices", params={"limit": 0, "sort": sort})
        assert response.status_code == 200 and response.json()["sort"] == sort
        return [d["displayName"] for d in response.json()["data"]]

    assert names("name") == names("displayName_a") == sorted(names("")) and len(names("name")) == 60
    assert names("name_d") == sorted(names("name"), reverse=True)
    prices = [
        d["creditsPrice"]
        for d in client.get("/api/v2/devices", params={"limit": 0, "sort": "creditsPrice_d"}).json()["data"]
    ]
    assert prices == sorted(prices, reverse=True)
    unsorted = names("")
    assert names("colour_a") == names("softwareVersion_d") == names("name desc!") == unsorted
    beyond = client.get("/api/v2/devices", params={"offset": 1000}).json()
    assert beyond["empty"] is True and beyond["data"] == [] and beyond["next"] is None
    odd = client.get("/api/v2/devices", params={"offset": "x", "limit": "-3"}).json()
    assert (odd["offset"], odd["limit"], len(odd["data"])) == (0, 20, 20)


def test_without_accept_json_the_answer_is_xml(serve) -> None:
    _, client = serve()
    project = create_project(client)
    response = client.get(f"/api/v2/me/projects/{project['id']}", headers={"Accept": "*/*"})
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "project" and root.findtext("name") == project["name"]


# ---------------------------------------------------------------- parameters and validation


def test_parameters_work_from_form_body_and_query_string(serve) -> None:
    _, client = serve()
    from_query = client.post("/api/v2/me/projects", params={"name": "Hello world", "type": "ANDROID"})
    from_form = client.post("/api/v2/me/projects", data={"name": "Hello form", "type": "IOS"})
    assert (from_query.status_code, from_form.status_code) == (201, 201)
    assert from_query.json()["name"] == "Hello world" and from_form.json()["type"] == "IOS"
    assert set(from_form.json()) == {"id", "name", "description", "type", "common", "sharedById"}
    config = client.get(f"/api/v2/me/projects/{from_form.json()['id']}/config").json()
    assert config["mode"] == "IOS" and config["usedDeviceGroupId"] == 1 and config["runAvailable"] is False


def test_duplicate_parameter_key_is_409_and_bad_values_are_400(serve) -> None:
    _, client = serve()
    base = f"/api/v2/me/projects/{create_project(client)['id']}"
    assert client.post(f"{base}/config/parameters", data={"key": "devel", "value": "true"}).status_code == 201
    duplicate = client.post(f"{base}/config/parameters", data={"key": "devel", "value": "false"})
    assert duplicate.status_code == 409 and duplicate.json()["statusCode"] == 409
    assert client.post("/api/v2/me/projects", data={"name": "x", "type": "WINDOWS"}).status_code == 400
    assert client.post("/api/v2/me/projects", data={"type": "ANDROID"}).status_code == 400
    assert client.post(f"{base}/config", data={"scheduler": "RANDOM"}).status_code == 400
    assert client.post(f"{base}/config", data={"mode": "IOS"}).status_code == 400
    assert client.post(f"{base}/config", data={"usedDeviceGroupId": "many"}).status_code == 400
    assert client.post(f"{base}/config", data={"usedDeviceGroupId": 999999}).status_code == 404
    assert client.post(f"{base}/config", data={"deviceLanguageCode": "english"}).status_code == 400
    assert client.get("/api/v2/me/projects/1").status_code == 404


def test_device_group_membership_and_price(serve) -> None:
    _, client = serve()
    group_id = create_group(client, [304, 337])
    devices = f"/api/v2/me/device-groups/{group_id}/devices"
    assert client.post(devices, data={"id": 337}).status_code == 409
    assert client.post(devices, data={"id": 350}).status_code == 400  # an iPhone in an Android group
    assert client.post(devices, data={"id": 9999}).status_code == 404
    group = client.get(f"/api/v2/me/device-groups/{group_id}").json()
    catalogue = {d["id"]: d for d in client.get("/api/v2/devices", params={"limit": 100}).json()["data"]}
    assert group["deviceCount"] == 2
    assert group["creditsPrice"] == catalogue[304]["creditsPrice"] + catalogue[337]["creditsPrice"]
    assert client.delete(f"{devices}/304").status_code == 204
    assert client.get(f"/api/v2/me/device-groups/{group_id}").json()["deviceCount"] == 1
    assert client.delete("/api/v2/me/device-groups/1").status_code == 403  # "Free devices" is public


# ---------------------------------------------------------------- files


def test_upload_download_and_files_zip_round_trip(serve) -> None:
    app, client = serve()
    project_id = create_project(client)["id"]
    content = bytes(range(256)) * 12_000  # ~3 MiB, spooled to disk by the form parser
    described = upload(client, project_id, "application", "big.apk", content)
    assert described["originalName"] == "big.apk" and described["readableSize"] == "2.9 MB"
    assert app.log.bytes_received("/files/application") > len(content)
    assert client.get(f"/api/v2/me/projects/{project_id}/files/application").content == content
    test_file = upload(client, project_id, "test", "checkout-test.apk", b"test")
    assert test_file["packageName"] == "com.sandbox.checkouttest"
    bad = client.post(f"/api/v2/me/projects/{project_id}/files/data", files={"file": ("data.zip", b"not a zip")})
    assert bad.status_code == 400
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v2/me/projects/{project_id}/files.zip").content))
    assert sorted(archive.namelist()) == ["application/big.apk", "test/checkout-test.apk"]
    assert archive.read("application/big.apk") == content


# ---------------------------------------------------------------- runs


def test_run_progresses_on_the_clock_and_reports_junit(serve) -> None:
    app, client = serve(failure_share=0.3, seed=11)
    project_id, _ = runnable_project(client, [304, 337, 300])
    runs = f"/api/v2/me/projects/{project_id}/runs"

    run = client.post(runs, data={"name": "nightly"}).json()
    assert run["state"] == "WAITING" and run["displayName"] == "nightly" and run["successRatio"] is None
    device_runs = f"{runs}/{run['id']}/device-runs"
    assert {d["runStatus"] for d in client.get(device_runs).json()["data"]} == {"WAITING"}

    app.clock.advance(0.15 * JOB)
    assert client.get(f"{runs}/{run['id']}").json()["state"] == "RUNNING"
    assert {d["runStatus"] for d in client.get(device_runs).json()["data"]} == {"RUNNING"}

    app.clock.advance(JOB)
    finished = client.get(f"{runs}/{run['id']}").json()
    assert finished["state"] == "FINISHED" and finished["executionRatio"] == 1.0
    views = client.get(device_runs).json()["data"]
    assert len(views) == 3 and all(d["runStatus"] in ("SUCCEEDED", "FAILED", "WARNING") for d in views)
    assert finished["successRatio"] == sum(d["runStatus"] != "FAILED" for d in views) / 3
    failed_cases = sum(d["testCaseAllNo"] - d["testCaseSuccessNo"] for d in views)
    assert failed_cases == round(0.3 * sum(d["testCaseAllNo"] for d in views))

    for view in views:
        suite = ElementTree.fromstring(client.get(f"{device_runs}/{view['id']}/junit.xml").content)
        assert suite.tag == "testsuite" and suite.get("name") == view["device"]["displayName"]
        assert len(suite.findall("testcase")) == view["testCaseAllNo"] > 0
        assert len(suite.findall("testcase/failure")) == view["testCaseAllNo"] - view["testCaseSuccessNo"]
        states = client.get(f"{device_runs}/{view['id']}/states").json()
        assert states["total"] == 7 and view["currentState"]["deviceRunStateType"] == "RESULTS_PROCESSING"


def test_a_run_without_an_application_starts_and_its_devices_are_excluded(serve) -> None:
    """The doc lists no 400 for starting a run: it starts; without what its mode needs every device run is
    EXCLUDED, naming what was missing; runAvailable says so beforehand."""
    _, client = serve()
    project_id = create_project(client)["id"]
    base = f"/api/v2/me/projects/{project_id}"
    assert client.get(f"{base}/config").json()["runAvailable"] is False
    started = client.post(f"{base}/runs")
    assert started.status_code == 201 and started.json()["displayName"] == "Test run 1"
    run = f"{base}/runs/{started.json()['id']}"
    assert client.get(run).json()["state"] == "FINISHED" and client.get(run).json()["successRatio"] == 0.0
    device_runs = client.get(f"{run}/device-runs").json()["data"]
    assert len(device_runs) == 5  # the "Free devices" group
    assert {d["runStatus"] for d in device_runs} == {"EXCLUDED"}
    assert "application file" in device_runs[0]["currentState"]["failReason"]
    assert (
        ElementTree.fromstring(client.get(f"{run}/device-runs/{device_runs[0]['id']}/junit.xml").content).get("tests")
        == "0"
    )

    upload(client, project_id, "application", "app.apk", b"apk")
    upload(client, project_id, "test", "test.apk", b"apk")
    assert client.get(f"{base}/config").json()["runAvailable"] is True
    second = client.get(f"{base}/runs/{client.post(f'{base}/runs').json()['id']}/device-runs").json()["data"]
    assert {d["runStatus"] for d in second} == {"WAITING"}


def test_a_share_takes_any_e_mail(serve) -> None:
    """The sharing table lists no 400: the e-mail's shape is labform's plan-time check, not the cloud's."""
    _, client = serve()
    base = f"/api/v2/me/projects/{create_project(client)['id']}"
    for email in ("not-an-e-mail", SANDBOX_USERNAME):
        assert client.post(f"{base}/sharings", data={"email": email}).status_code == 201
    assert client.post(f"{base}/sharings", data={"email": "not-an-e-mail"}).status_code == 409


def test_screenshots_zip_is_generated_after_a_request(serve) -> None:
    app, client = serve()
    project_id, _ = runnable_project(client, [304])
    run = f"/api/v2/me/projects/{project_id}/runs/{client.post(f'/api/v2/me/projects/{project_id}/runs').json()['id']}"
    app.clock.advance(JOB)
    assert client.get(run).json()["screenshotZipState"] == "BLANK"
    assert client.get(f"{run}/screenshots.zip").status_code == 404
    assert client.post(f"{run}/screenshots.zip").status_code == 201
    assert client.get(run).json()["screenshotZipState"] == "PROGRESS"
    app.clock.advance(0.1 * JOB)
    assert client.get(run).json()["screenshotZipState"] == "READY"
    shots = client.get(f"{run}/screenshots").json()
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{run}/screenshots.zip").content))
    assert len(archive.namelist()) == shots["total"] > 0


# ---------------------------------------------------------------- faults and persistence


def test_injected_429_carries_retry_after(serve) -> None:
    _, client = serve(failure_rate=1.0, failure_kinds=("429",), retry_after=3)
    response = client.get("/api/v2/devices")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert response.json()["statusCode"] == 429


def test_injected_drop_breaks_the_connection(serve) -> None:
    _, client = serve(failure_rate=1.0, failure_kinds=("drop",))
    with pytest.raises(httpx.TransportError):
        client.get("/api/v2/devices")


def test_latency_delays_every_answer(serve) -> None:
    _, client = serve(latency=0.3)
    began = time.monotonic()
    assert client.get("/api/v2/devices").status_code == 200
    assert time.monotonic() - began >= 0.3


def test_a_second_app_on_the_same_data_file_sees_the_project(tmp_path) -> None:
    """A sandbox session after another one (the first stopped) finds what the first made."""
    options = {"clock": Clock(speed=0), "data_file": tmp_path / "bitbar.json"}
    with (
        EmulatorServer(build_app(EmulatorOptions(**options))) as server,
        httpx.Client(base_url=server.url, auth=KEY_AUTH, headers=JSON) as first,
    ):
        project = create_project(first)
        upload(first, project["id"], "application", "app.apk", b"kept bytes")
    with (
        EmulatorServer(build_app(EmulatorOptions(**options))) as server,
        httpx.Client(base_url=server.url, auth=KEY_AUTH, headers=JSON) as second,
    ):
        assert second.get(f"/api/v2/me/projects/{project['id']}").json() == project
        assert second.get(f"/api/v2/me/projects/{project['id']}/files/application").content == b"kept bytes"


# ---------------------------------------------------------------- the doc's own examples

EXAMPLES = json.loads(Path(__file__).with_name("bitbar_examples.json").read_text())
# What a testRun may carry beyond the doc's example when the variant keeps extra keys (the docstring's table).
TEST_RUN_EXTRAS = {"projectId", "startTime", "endTime", "deviceRunCount"}
# And a device (the testdroid client's device listings read ``locked``).
DEVICE_EXTRAS = {"locked"}
# Where a doc id sits in a path (or which query parameter holds it) says what it names.
PATH_KINDS = {"projects": "project", "runs": "run", "device-runs": "deviceRun", "parameters": "parameter", "sharings": "share", "tags": "tag",
              "device-groups": "deviceGroup", "devices": "device", "notification": "notification", "notifications": "notification",
              "states": "state", "screenshots": "screenshot"}  # fmt: skip
QUERY_KINDS = {"usedDeviceGroupId": "deviceGroup", "id": "device"}


class DocWorld:
    """The doc's ids and tokens mapped to the emulator's, learned from the answers as the examples run.

    A create's answer maps the doc's id to the new object; a list's first item maps an id not yet
    known. An id never seen stands for the latest object of its kind (the doc reuses ids loosely:
    31981820 is a project in its sharing examples, a notification elsewhere); a device group is made
    on first mention (the config example names 4148 before the group example creates it). The
    seeded catalogue has the doc's device ids. ``setup`` makes what no example makes (with the doc's API key).
    """

    def __init__(self, setup: httpx.Client):
        self.setup = setup
        self.ids: dict[tuple[str, int], int] = {}
        self.latest: dict[str, int] = {}
        self.tokens: dict[str, str] = {}
        self.access_token = ""

    def ours(self, kind: str, doc_id: int) -> int:
        if kind == "device":
            return doc_id
        if (kind, doc_id) not in self.ids and kind not in self.latest:
            assert kind == "deviceGroup", f"nothing stands for the doc's {kind} {doc_id}"
            self.learn(kind, doc_id, create_group(self.setup, [304]))
        return self.ids.get((kind, doc_id), self.latest.get(kind))

    def learn(self, kind: str, doc_id: int, our_id: int) -> None:
        self.ids[(kind, doc_id)] = self.latest[kind] = our_id

    def path(self, doc_path: str) -> str:
        parts, kind = doc_path.split("/"), None
        for index, part in enumerate(parts):
            if part.isdigit() and kind:
                parts[index] = str(self.ours(kind, int(part)))
            kind = PATH_KINDS.get(part)
        return "/".join(parts)

    def query(self, query: dict[str, str]) -> dict[str, str]:
        return {
            k: str(self.ours(QUERY_KINDS[k], int(v))) if k in QUERY_KINDS else self.tokens.get(v, v)
            for k, v in query.items()
        }

    def answered(self, example: dict[str, Any], body: Any) -> None:
        doc = example["response"]
        for key in ("access_token", "refresh_token"):
            if key in doc:
                self.tokens[doc[key]] = body[key]
                self.access_token = body["access_token"]
        parts = [p for p in example["endpoint"].split(" ")[1].strip("/").split("/") if not p.startswith("{")]
        kind = PATH_KINDS.get(parts[-1]) if not example["endpoint"].split(" ")[1].endswith("}") else None
        if kind is None or kind == "device":
            return
        if example["method"] == "POST":
            self.learn(kind, doc["id"], body["id"])
        elif "data" in doc and doc["data"] and body["data"] and (kind, doc["data"][0]["id"]) not in self.ids:
            self.learn(kind, doc["data"][0]["id"], body["data"][0]["id"])


def json_type(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", dict: "object", list: "array"}[type(value)]


def mismatches(doc: Any, ours: Any, where: str, extra_keys: bool) -> list[str]:
    """Where our answer departs from the doc's in keys or types, at every level (null matches any type)."""
    if doc is None or ours is None:
        return []
    if json_type(doc) != json_type(ours):
        return [f"{where}: {json_type(doc)} in the doc, {json_type(ours)} here"]
    if isinstance(doc, dict):
        extras = TEST_RUN_EXTRAS if "screenshotZipState" in doc else DEVICE_EXTRAS if "frame80Url" in doc else set()
        allowed = extras if extra_keys else set()
        problems = [f"{where}: lacks {sorted(doc.keys() - ours.keys())}"] if doc.keys() - ours.keys() else []
        problems += (
            [f"{where}: has {sorted(ours.keys() - doc.keys() - allowed)}, which the doc lacks"]
            if ours.keys() - doc.keys() - allowed
            else []
        )
        return problems + [
            p for key in doc.keys() & ours.keys() for p in mismatches(doc[key], ours[key], f"{where}.{key}", extra_keys)
        ]
    if isinstance(doc, list) and doc:
        return (
            mismatches(doc[0], ours[0], f"{where}[0]", extra_keys)
            if ours
            else [f"{where}: no items to compare with the doc's"]
        )
    return []


def upload_part(name: str) -> tuple[str, bytes]:
    return (name, data_zip()) if name.endswith(".zip") else (name, b"apk bytes of " + name.encode())


# What an example needs that no earlier example made: the icon is extracted from an application.
PREPARE: dict[str, Callable[[httpx.Client, str], Any]] = {
    "GET /api/v2/me/projects/{projectID}/icon": lambda client, path: client.post(
        path.removesuffix("/icon") + "/files/application", files={"file": upload_part("app.apk")}
    ),
}


def replay(client: httpx.Client, world: DocWorld, example: dict[str, Any], extra_keys: bool) -> list[str]:
    """One example as the doc writes it (its method, path, query and body, its auth); what departs from the doc."""
    path = world.path(example["path"])
    if example["endpoint"] in PREPARE:
        PREPARE[example["endpoint"]](world.setup, path)
    query = world.query(example["query"])
    auth: Any = None
    if example["auth"] == "access_token":
        query["access_token"] = world.access_token  # "put your access_token to HTTP request URL"
    elif example["auth"] == "api_key":
        auth = (EXAMPLES["credentials"]["api_key"], "")
    files = {field: upload_part(name) for field, name in example.get("files", {}).items()} or None
    response = client.request(example["method"], path, params=query, files=files, auth=auth)
    where = f"line {example['doc_line']} {example['endpoint']}"
    if response.status_code != example["status"]:
        return [f"{where}: status {response.status_code} != {example['status']}: {response.text[:200]}"]
    if "response" in example:
        world.answered(example, response.json())
        return [f"{where}: {p}" for p in mismatches(example["response"], response.json(), "body", extra_keys)]
    if example.get("response_kind") == "object":
        return [] if isinstance(response.json(), dict) else [f"{where}: not a JSON object"]
    text = example["response_text"]
    expected = {"(empty string)": response.content == b"", "PDF file": response.content.startswith(b"%PDF")}.get(
        text, bool(response.content)
    )
    return [] if expected else [f"{where}: the doc answers {text}, this answered {response.content[:60]!r}"]


@pytest.mark.parametrize("variant", ["default", "no-extra-keys"])
def test_the_docs_example_requests_get_the_docs_statuses_keys_and_types(variant: str, capsys) -> None:
    """Every example of the doc replayed as written (deletes last, newest first, so the objects later
    examples read still exist), with the doc's credentials and the token in the URL as the doc says:
    the status of the endpoint's table and, at every level of the JSON, the doc's keys and types;
    extra keys only where the variant keeps them."""
    extra_keys = VARIANTS[variant].extra_keys
    app = build_app(
        EmulatorOptions(clock=Clock(speed=0), job_duration=JOB, credentials=dict(EXAMPLES["credentials"])), variant
    )
    examples = EXAMPLES["examples"]
    ordered = [e for e in examples if e["method"] != "DELETE"] + [
        e for e in reversed(examples) if e["method"] == "DELETE"
    ]
    left_out = [f"line {e['doc_line']} {e['endpoint']} ({e['left_out']})" for e in examples if "left_out" in e]
    problems: list[str] = []
    doc_key = (EXAMPLES["credentials"]["api_key"], "")
    with EmulatorServer(app) as server, httpx.Client(base_url=server.url, headers=JSON, timeout=10) as client:
        world = DocWorld(httpx.Client(base_url=server.url, headers=JSON, auth=doc_key, timeout=10))
        for example in (e for e in ordered if "left_out" not in e):
            problems += replay(client, world, example, extra_keys)
            app.clock.advance(JOB)  # runs finish, screenshots.zip gets READY
    replayed = len(examples) - len(left_out)
    with capsys.disabled():
        print(
            f"\nbitbar doc examples ({variant}): {replayed} replayed of {len(examples)}; left out: {', '.join(left_out) or 'none'}"
        )
    assert problems == []
    assert replayed == 76


def test_the_examples_file_notes_each_fix_of_the_docs_text() -> None:
    """Each example that is not the doc's text verbatim says why (malformed JSON, placeholders, contradictions)."""
    fixed = {e["doc_line"] for e in EXAMPLES["examples"] if "fix" in e}
    assert {19, 72, 88, 320, 842, 884, 1585, 3533} <= fixed
    assert all("response" in e or "response_text" in e or "response_kind" in e for e in EXAMPLES["examples"])


# ---------------------------------------------------------------- doc variants


def test_limit_capped_cuts_a_large_limit_to_the_default_page(serve) -> None:
    _, client = serve("limit-capped")
    page = client.get("/api/v2/devices", params={"limit": 50}).json()
    assert (len(page["data"]), page["limit"], page["next"] is not None) == (20, 20, True)
    assert len(client.get("/api/v2/devices", params={"limit": 0}).json()["data"]) == 60


def test_required_as_tables_wants_a_run_name_and_both_group_fields(serve) -> None:
    _, client = serve("required-as-tables")
    project_id, group_id = runnable_project(client, [304])
    runs = f"/api/v2/me/projects/{project_id}/runs"
    assert client.post(runs).status_code == 400
    assert client.post(runs, data={"name": "named"}).status_code == 201
    group = f"/api/v2/me/device-groups/{group_id}"
    assert client.post(group, data={"name": "renamed"}).status_code == 400
    assert client.post(group, data={"name": "renamed", "osType": "ANDROID"}).status_code == 202


def test_a_refresh_answers_the_tables_token_type_on_that_variant(serve) -> None:
    _, client = serve("refreshed-token-type-refresh")
    refresh = {
        "client_id": "testdroid-cloud-api",
        "grant_type": "refresh_token",
        "refresh_token": password_grant(client)["refresh_token"],
    }
    assert client.post("/oauth/token", data=refresh, auth=None).json()["token_type"] == "refresh"


def test_project_names_may_repeat_on_that_variant(serve) -> None:
    _, client = serve("project-names-repeat")
    first = client.post("/api/v2/me/projects", data={"name": "twin", "type": "ANDROID"})
    second = client.post("/api/v2/me/projects", data={"name": "twin", "type": "ANDROID"})
    assert (first.status_code, second.status_code) == (201, 201) and first.json()["id"] != second.json()["id"]


def test_post_params_in_body_only_ignores_the_query_string(serve) -> None:
    _, client = serve("post-params-in-body-only")
    assert client.post("/api/v2/me/projects", params={"name": "q", "type": "ANDROID"}).status_code == 400
    assert client.post("/api/v2/me/projects", data={"name": "b", "type": "ANDROID"}).status_code == 201


def test_no_extra_keys_strips_the_test_runs_later_keys(serve) -> None:
    for variant, extra in (("default", TEST_RUN_EXTRAS), ("no-extra-keys", set())):
        _, client = serve(variant)
        project_id, _ = runnable_project(client, [304])
        run = client.post(f"/api/v2/me/projects/{project_id}/runs").json()
        assert set(run) == set(EXAMPLES["objects"]["testRun"]) | extra
        device = client.get("/api/v2/devices").json()["data"][0]
        assert set(device) == set(EXAMPLES["objects"]["device"]) | (DEVICE_EXTRAS if extra else set())
