"""The Bitbar emulator over real HTTP: every documented endpoint is routed, and
auth, lists, parameters, runs, faults and persistence behave as the doc says."""

from __future__ import annotations

import io
import itertools
import time
import zipfile
from typing import Any, Callable, Iterator
from xml.etree import ElementTree

import httpx
import pytest

from providers.bitbar.emulator import (
    AUTH_REQUIRED,
    SANDBOX_API_KEY,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
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

    def start(**options: Any) -> Served:
        options.setdefault("clock", Clock(speed=0))
        options.setdefault("job_duration", JOB)
        app = build_app(EmulatorOptions(**options))
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
    with EmulatorServer(app) as server, httpx.Client(base_url=server.url, auth=KEY_AUTH, headers=JSON, timeout=10) as client:
        yield app, client


def seed_world(app: EmulatorApp, client: httpx.Client) -> dict[str, Any]:
    """One of everything, made through the API, with the ids the endpoint paths need."""
    project_id, group_id = runnable_project(client, [304, 337])
    base = f"/api/v2/me/projects/{project_id}"
    upload(client, project_id, "data", "data.zip", data_zip())
    parameter = client.post(f"{base}/config/parameters", data={"key": "devel", "value": "true"}).json()
    sharing = client.post(f"{base}/sharings", data={"email": f"{unique('friend')}@example.com"}).json()
    notification = client.post("/api/v2/me/notifications", data={"email": f"{unique('me')}@example.com", "type": "ALWAYS"}).json()
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
            "data": {"client_id": "testdroid-cloud-api", "grant_type": "password", "username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD},
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
    form = {"client_id": "testdroid-cloud-api", "grant_type": "password", "username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}
    granted = client.post("/oauth/token", data=form, auth=None)
    assert granted.status_code == 200
    body = granted.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599 and body["scope"] == "read write"
    bearer = {"Authorization": f"Bearer {body['access_token']}", **JSON}
    assert httpx.get(f"{client.base_url}/api/v2/me/projects", headers=bearer).status_code == 200

    # The doc's own example: GET with the query string.
    refresh = {"client_id": "testdroid-cloud-api", "grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
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


def test_a_token_in_the_url_is_refused_even_when_valid(serve) -> None:
    _, client = serve()
    form = {"client_id": "testdroid-cloud-api", "grant_type": "password", "username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}
    token = client.post("/oauth/token", data=form, auth=None).json()["access_token"]
    response = httpx.get(f"{client.base_url}/api/v2/me/projects", params={"access_token": token}, headers=JSON)
    assert response.status_code == 401
    assert "Authorization" in response.json()["message"]


def test_an_expired_token_is_refused(serve) -> None:
    _, client = serve(credentials={"token_ttl": "0"})
    form = {"client_id": "testdroid-cloud-api", "grant_type": "password", "username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}
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


def test_sort_orders_by_a_field_and_refuses_unknown_ones(serve) -> None:
    _, client = serve()
    names = [d["displayName"] for d in client.get("/api/v2/devices", params={"limit": 100, "sort": "name_d"}).json()["data"]]
    assert names == sorted(names, reverse=True) and len(names) == 60
    assert client.get("/api/v2/devices", params={"sort": "colour_a"}).status_code == 400
    beyond = client.get("/api/v2/devices", params={"offset": 1000}).json()
    assert beyond["empty"] is True and beyond["data"] == [] and beyond["next"] is None


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


def test_a_run_needs_an_application_and_a_test_file(serve) -> None:
    _, client = serve()
    project_id = create_project(client)["id"]
    refused = client.post(f"/api/v2/me/projects/{project_id}/runs")
    assert refused.status_code == 400 and "application" in refused.json()["message"]
    upload(client, project_id, "application", "app.apk", b"apk")
    refused = client.post(f"/api/v2/me/projects/{project_id}/runs")
    assert refused.status_code == 400 and "test file" in refused.json()["message"]
    upload(client, project_id, "test", "test.apk", b"apk")
    started = client.post(f"/api/v2/me/projects/{project_id}/runs")
    assert started.status_code == 201 and started.json()["displayName"] == "Test run 1"
    assert started.json()["deviceRunCount"] == 5  # the "Free devices" group


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
    with EmulatorServer(build_app(EmulatorOptions(**options))) as server:
        with httpx.Client(base_url=server.url, auth=KEY_AUTH, headers=JSON) as first:
            project = create_project(first)
            upload(first, project["id"], "application", "app.apk", b"kept bytes")
    with EmulatorServer(build_app(EmulatorOptions(**options))) as server:
        with httpx.Client(base_url=server.url, auth=KEY_AUTH, headers=JSON) as second:
            assert second.get(f"/api/v2/me/projects/{project['id']}").json() == project
            assert second.get(f"/api/v2/me/projects/{project['id']}/files/application").content == b"kept bytes"
