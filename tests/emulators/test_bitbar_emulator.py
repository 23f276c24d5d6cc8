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
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from labform.providers.bitbar.emulator import (
    AUTH_REQUIRED,
    SANDBOX_API_KEY,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    build_app,
)
from labform.providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer
from tests.emulators.endpoint_rows import EndpointRow, rows_for
from tests.emulators.example_keys import ExampleKeys, count, join

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


def type_mismatches(doc: Any, ours: Any, where: str) -> list[str]:
    """Where our answer's values depart from the doc's in type, at every level (null matches any type;
    the keys are checked by tests/emulators/example_keys.py)."""
    if doc is None or ours is None:
        return []
    if json_type(doc) != json_type(ours):
        return [f"{where}: {json_type(doc)} in the doc, {json_type(ours)} here"]
    if isinstance(doc, dict):
        return [p for key in doc.keys() & ours.keys() for p in type_mismatches(doc[key], ours[key], f"{where}.{key}")]
    if isinstance(doc, list) and doc:
        return [p for item in ours for p in type_mismatches(doc[0], item, f"{where}[]")]
    return []


def upload_part(name: str) -> tuple[str, bytes]:
    return (name, data_zip()) if name.endswith(".zip") else (name, b"apk bytes of " + name.encode())


# What an example needs that no earlier example made: the icon is extracted from an application.
PREPARE: dict[str, Callable[[httpx.Client, str], Any]] = {
    "GET /api/v2/me/projects/{projectID}/icon": lambda client, path: client.post(
        path.removesuffix("/icon") + "/files/application", files={"file": upload_part("app.apk")}
    ),
}


def replay(client: httpx.Client, world: DocWorld, example: dict[str, Any]) -> tuple[list[str], Any]:
    """One example as the doc writes it (its method, path, query and body, its auth): what departs from
    the doc in status and value types, and the JSON body answered (None for a file or an empty answer)."""
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
        return [f"{where}: status {response.status_code} != {example['status']}: {response.text[:200]}"], None
    if "response" in example:
        world.answered(example, response.json())
        return [f"{where}: {p}" for p in type_mismatches(example["response"], response.json(), "body")], response.json()
    if example.get("response_kind") == "object":
        return ([] if isinstance(response.json(), dict) else [f"{where}: not a JSON object"]), None
    text = example["response_text"]
    expected = {"(empty string)": response.content == b"", "PDF file": response.content.startswith(b"%PDF")}.get(
        text, bool(response.content)
    )
    return ([] if expected else [f"{where}: the doc answers {text}, this answered {response.content[:60]!r}"]), None


@contextmanager
def doc_replay(variant: str) -> Iterator[tuple[EmulatorApp, DocWorld, list[tuple[dict[str, Any], Any]], list[str]]]:
    """Every example of the doc replayed as written (deletes last, newest first, so the objects later
    examples read still exist), with the doc's credentials and the token in the URL as the doc says.
    Yields the app, the world (its ``setup`` client still serving), each example with its JSON body,
    and the problems of status and type."""
    app = build_app(
        EmulatorOptions(clock=Clock(speed=0), job_duration=JOB, credentials=dict(EXAMPLES["credentials"])), variant
    )
    examples = [e for e in EXAMPLES["examples"] if "left_out" not in e]
    ordered = [e for e in examples if e["method"] != "DELETE"] + [
        e for e in reversed(examples) if e["method"] == "DELETE"
    ]
    doc_key = (EXAMPLES["credentials"]["api_key"], "")
    answered: list[tuple[dict[str, Any], Any]] = []
    problems: list[str] = []
    with (
        EmulatorServer(app) as server,
        httpx.Client(base_url=server.url, headers=JSON, timeout=10) as client,
        httpx.Client(base_url=server.url, headers=JSON, auth=doc_key, timeout=10) as setup,
    ):
        world = DocWorld(setup)
        for example in ordered:
            found, body = replay(client, world, example)
            problems += found
            answered.append((example, body))
            app.clock.advance(JOB)  # runs finish, screenshots.zip gets READY
        yield app, world, answered, problems


@pytest.mark.parametrize("variant", ["default", "no-extra-keys"])
def test_the_docs_example_requests_get_the_docs_statuses_and_types(variant: str, capsys) -> None:
    """Every example of the doc replayed as written: the status of the endpoint's table and, at every
    level of the JSON, the types of the doc's values (its keys: the test below)."""
    examples = EXAMPLES["examples"]
    left_out = [f"line {e['doc_line']} {e['endpoint']} ({e['left_out']})" for e in examples if "left_out" in e]
    with doc_replay(variant) as (_, _, answered, problems):
        pass
    with capsys.disabled():
        print(
            f"\nbitbar doc examples ({variant}): {len(answered)} replayed of {len(examples)}; left out: {', '.join(left_out) or 'none'}"
        )
    assert problems == []
    assert len(answered) == 76


# Each object's table (the doc's API Objects, its "Object body" line; the token's "Response body" at 55):
# its keys, ``key:object`` where the table types the key as another object (``softwareVersion_``).
OBJECT_TABLES: dict[str, tuple[int, str]] = {
    "token": (55, "access_token token_type refresh_token expires_in scope"),
    "device": (
        3583,
        "id displayName softwareVersion:softwareVersion creditsPrice imagePrefix imageTop imageLeft imageWidth"
        " imageHeight frameExtraWidth osType frame80Url frame100Url frame160Url frame400Url",
    ),
    "deviceGroup": (3628, "id name displayName deviceCount creditsPrice userId osType"),
    "deviceRun": (
        3653,
        "id runTime device:device deviceName deviceSerialId testCaseSuccessNo testCaseAllNo testCaseCount"
        " softwareVersion:softwareVersion createTime startTime currentState:state interruptedByState:state runStatus",
    ),
    "file": (3713, "id originalName readableSize uploadTime"),
    "fileTest": (
        3732,
        "id originalName readableSize uploadTime minSdk packageName mainActivity bundleName bundleIdentifier",
    ),
    "list": (3759, "next previous data offset limit total search sort empty"),
    "notification": (3792, "id email project type"),
    "performanceItem": (3814, "packageName cpuUsage timestamp memUsage"),
    "project": (3833, "id name description type common sharedById"),
    "projectConfig": (
        3856,
        "projectId scheduler mode autoScreenshots runAvailable screenshotDir limitationType limitationValue"
        " withAnnotation withoutAnnotation applicationUsername applicationPassword usedDeviceGroupId"
        " deviceLanguageCode hookURL uiAutomatorTestClasses launchApp instrumentationRunner checkApp",
    ),
    "projectConfigParameter": (3933, "projectId key value"),
    "screenshot": (3950, "id originalName fail type"),
    "share": (3971, "id userId userEmail"),
    "softwareVersion": (3988, "id releaseVersion apiLevel"),
    "state": (4005, "id deviceRunId startTimeMS finishTimeMS retryTime failReason status deviceRunStateType"),
    "tag": (4058, "id name"),
    "testRun": (
        4073,
        "id number createTime displayName executionRatio successRatio startedByDisplayName state screenshotZipState",
    ),
}
# What each endpoint answers on success (its "Success response", at that line): an object, a list
# envelope whose data holds them, or a bare array of them.
SUCCESS_OBJECTS: dict[str, tuple[str, int]] = {
    "POST /oauth/token": ("token", 55),
    "POST /api/v2/me/projects": ("project", 133),
    "GET /api/v2/me/projects/{projectID}": ("project", 178),
    "POST /api/v2/me/projects/{projectID}": ("project", 226),
    "GET /api/v2/me/projects": ("list of project", 310),
    "POST /api/v2/me/projects/{projectId}/config": ("projectConfig", 444),
    "GET /api/v2/me/projects/{projectId}/config": ("projectConfig", 503),
    "POST /api/v2/me/projects/{projectId}/config/parameters": ("projectConfigParameter", 566),
    "GET /api/v2/me/projects/{projectId}/config/parameters": ("list of projectConfigParameter", 611),
    "GET /api/v2/me/projects/{projectId}/config/parameters/{parameterId}": ("projectConfigParameter", 660),
    "POST /api/v2/me/projects/{projectId}/files/application": ("file", 747),
    "POST /api/v2/me/projects/{projectId}/files/data": ("file", 832),
    "POST /api/v2/me/projects/{projectId}/files/test": ("fileTest", 915),
    "POST /api/v2/me/projects/{projectId}/sharings": ("share", 1042),
    "GET /api/v2/me/projects/{projectId}/sharings": ("list of share", 1087),
    "GET /api/v2/me/projects/{projectId}/sharings/{sharingId}": ("share", 1136),
    "POST /api/v2/me/projects/{projectId}/runs": ("testRun", 1220),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}": ("testRun", 1268),
    "POST /api/v2/me/projects/{projectId}/runs/{runId}": ("testRun", 1318),
    "GET /api/v2/me/runs": ("list of testRun", 1406),
    "GET /api/v2/me/projects/{projectId}/runs": ("list of testRun", 1463),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/device-runs": ("list of deviceRun", 1522),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/device-runs/{deviceRunId}": ("deviceRun", 1575),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/device-runs/{deviceRunId}/performance": (
        "array of performanceItem",
        1705,
    ),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/screenshots": ("list of screenshot", 1748),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/screenshots/{screenshotId}": ("screenshot", 1801),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/device-runs/{deviceRunId}/states": ("list of state", 1849),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/device-runs/{deviceRunId}/states/{stateId}": ("state", 1906),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/config": ("projectConfig", 1957),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/config/parameters": ("list of projectConfigParameter", 2021),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/config/parameters/{parameterId}": (
        "projectConfigParameter",
        2071,
    ),
    "POST /api/v2/me/projects/{projectId}/runs/{runId}/tags": ("tag", 2277),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/tags": ("list of tag", 2322),
    "GET /api/v2/me/projects/{projectId}/runs/{runId}/tags/{tagId}": ("tag", 2372),
    "POST /api/v2/me/device-groups": ("deviceGroup", 2720),
    "GET /api/v2/me/device-groups": ("list of deviceGroup", 2768),
    "GET /api/v2/me/projects/{projectId}/device-groups": ("list of deviceGroup", 2822),
    "GET /api/v2/me/projects/{projectId}/public-device-groups": ("list of deviceGroup", 2876),
    "GET /api/v2/me/device-groups/{deviceGroupId}": ("deviceGroup", 2926),
    "POST /api/v2/me/device-groups/{deviceGroupId}": ("deviceGroup", 2976),
    "GET /api/v2/me/device-groups/{deviceGroupId}/devices": ("list of device", 3103),
    "POST /api/v2/me/notifications": ("notification", 3198),
    "POST /api/v2/me/projects/{projectId}/notifications": ("notification", 3246),
    "GET /api/v2/me/notifications": ("list of notification", 3291),
    "GET /api/v2/me/projects/{projectId}/notifications": ("list of notification", 3344),
    "GET /api/v2/me/notification/{id}": ("notification", 3393),
    "POST /api/v2/me/notification/{id}": ("notification", 3439),
    "GET /api/v2/devices": ("list of device", 3523),
}


def places(obj: str, where: str = "") -> Iterator[tuple[str, str]]:
    """Each object the table of ``obj`` holds, with its path, ``obj`` itself first."""
    yield obj, where
    for key in OBJECT_TABLES[obj][1].split():
        name, _, nested = key.partition(":")
        if nested:
            yield from places(nested, join(where, name))


def answered_places(endpoint: str) -> list[tuple[str, str]]:
    """Where each object an endpoint answers sits in its body: ``data[]`` of a list, ``[]`` of an array."""
    shape = SUCCESS_OBJECTS[endpoint][0]
    if shape.startswith("list of "):
        return [("list", ""), *places(shape.removeprefix("list of "), "data[]")]
    if shape.startswith("array of "):
        return list(places(shape.removeprefix("array of "), "[]"))
    return list(places(shape))


def table_keys(endpoint: str) -> list[str]:
    return [
        join(where, key.partition(":")[0])
        for obj, where in answered_places(endpoint)
        for key in OBJECT_TABLES[obj][1].split()
    ]


def at_places(endpoint: str, by_object: dict[str, dict[str, str]]) -> dict[str, str]:
    """A listing by object (``{"testRun": {"projectId": why}}``) as the endpoint's key paths."""
    return {
        join(where, key): why for obj, where in answered_places(endpoint) for key, why in by_object.get(obj, {}).items()
    }


# Keys the doc shows on some objects only (the table's iOS-only ones), whatever the variant.
CONDITIONAL = {
    "fileTest": {key: "iOS only (fileTest table, 3740-3741)" for key in ("bundleName", "bundleIdentifier")},
}
# The keys beyond the reference a variant writes (its listed choice): variant -> object -> key -> why.
EXTRA_CHOICES: dict[str, dict[str, dict[str, str]]] = {
    "default": {
        "testRun": {
            key: "later Bitbar APIs have it; the v2 table lacks it (4073); no-extra-keys drops it"
            for key in TEST_RUN_EXTRAS
        },
        "device": {
            "locked": "the testdroid client's device listings read it (table 3583 lacks it); no-extra-keys drops it"
        },
    },
    "no-extra-keys": {},
}


def example_keys(variant: str) -> dict[str, ExampleKeys]:
    """Per endpoint: the reference keys (its example's and its object table's) and the variant's listings."""
    first = {}
    for example in EXAMPLES["examples"]:
        if "response" in example:
            first.setdefault(example["endpoint"], example["response"])
    return {
        endpoint: ExampleKeys(
            body,
            table=table_keys(endpoint),
            conditional=at_places(endpoint, CONDITIONAL),
            extra=at_places(endpoint, EXTRA_CHOICES[variant]),
        )
        for endpoint, body in first.items()
    }


def example_key_problems(variant: str) -> list[str]:
    """Each replayed example's answer, then what shows the keys the examples cannot: an iOS test file
    (the table's iOS-only keys) and the device runs of an aborted run (a non-null interruptedByState)."""
    keys = example_keys(variant)
    problems: list[str] = []
    with doc_replay(variant) as (app, world, answered, _):
        for example, body in answered:
            if "response" in example:
                problems += [f"{p} (line {example['doc_line']})" for p in keys[example["endpoint"]].check(body)]
        setup = world.setup
        ios = setup.post("/api/v2/me/projects", data={"name": unique("ios"), "type": "IOS"}).json()["id"]
        test_file = upload(setup, ios, "test", "app-tests.ipa", b"ipa bytes")
        problems += [
            f"{p} (an iOS test file)" for p in keys["POST /api/v2/me/projects/{projectId}/files/test"].check(test_file)
        ]
        project_id, _ = runnable_project(setup, [304, 337])
        runs = f"/api/v2/me/projects/{project_id}/runs"
        run_id = setup.post(runs).json()["id"]
        app.clock.advance(JOB / 3)
        assert setup.post(f"{runs}/{run_id}/abort").status_code == 202
        device_runs = setup.get(f"{runs}/{run_id}/device-runs").json()
        device_run = setup.get(f"{runs}/{run_id}/device-runs/{device_runs['data'][0]['id']}").json()
        device_runs_path = "GET /api/v2/me/projects/{projectId}/runs/{runId}/device-runs"
        problems += [f"{p} (an aborted run's device runs)" for p in keys[device_runs_path].check(device_runs)]
        problems += [
            f"{p} (an aborted device run)" for p in keys[device_runs_path + "/{deviceRunId}"].check(device_run)
        ]
    return problems + [f"{problem} ({endpoint})" for endpoint, check in keys.items() for problem in check.unseen()]


@pytest.mark.parametrize("variant", sorted(EXTRA_CHOICES))
def test_every_key_of_every_doc_example_and_object_table_is_answered_and_no_other(variant: str, capsys) -> None:
    """Both ways, nested objects and every list item too; the reference of an endpoint is its example's
    keys and its object's table's; the keys a variant adds are its listed choice."""
    problems = example_key_problems(variant)
    with capsys.disabled():
        print(f"\nbitbar example keys ({variant}): {count(problems)}")
        print("\n".join(problems))
    assert problems == []


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
