"""The WeTest emulator over real HTTP: coverage, auth, submission rules, progression."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer
from providers.wetest.emulator import SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY, build_app
from tests.apps import binary_manifest, build_apk, build_ipa, text_manifest
from tests.emulators.endpoint_rows import rows_for

BASE = "/cloudtest/v1"
PROJECT = "pj-demo"


class WeTest:
    """A running emulator and a client speaking its documented calls."""

    def __init__(self, app: EmulatorApp, client: httpx.Client):
        self.app = app
        self.client = client

    def upload_app(self, content: bytes | None = None, name: str = "demo.apk", project: str = PROJECT) -> dict[str, Any]:
        response = self.client.post(
            f"{BASE}/platform/upload/storage",
            params={"project": project, "name": name},
            files={"data": (name, build_apk() if content is None else content)},
        )
        return response.json()

    def upload_script(self) -> int:
        body = self.client.post(f"{BASE}/scripts", files={"file": ("demo-script.zip", b"PK script")}).json()
        return body["script"]["script_id"]

    def submit(self, **fields: Any) -> dict[str, Any]:
        return self.client.post(f"{BASE}/tests/automation", json=fields).json()

    def appium_test(self, **overrides: Any) -> int:
        fid = self.upload_app()["data"]["fid"]
        fields = {"project": PROJECT, "app_hash_id": fid, "script_id": self.upload_script(), "cloud_id": 1, "device_number": 3}
        body = self.submit(**{**fields, **overrides})
        assert body["ret"] == 0, body
        return body["test_info"]["test_id"]

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(BASE + path, params=params)
        assert response.status_code == 200
        return response.json()


@contextmanager
def serving(**options: Any) -> Iterator[WeTest]:
    app = build_app(EmulatorOptions(clock=Clock(speed=0), **options))
    auth = (SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY)
    with EmulatorServer(app) as server, httpx.Client(base_url=server.url, auth=auth, timeout=10) as client:
        yield WeTest(app, client)


@pytest.fixture
def wetest() -> Iterator[WeTest]:
    with serving() as running:
        yield running


# ---------------------------------------------------------------- coverage


def _request_for(wetest: WeTest, method: str, path: str, ids: dict[str, Any]) -> httpx.Response:
    """A well-formed request for one endpoints.tsv row, with the parameters the doc requires."""
    params: dict[str, Any] = {}
    kwargs: dict[str, Any] = {}
    if path.endswith("/upload/storage"):
        params = {"project": PROJECT, "name": "again.apk"}
        kwargs["files"] = {"data": ("again.apk", build_apk())}
    elif path.endswith("/upload/info") or path.endswith("/model/list"):
        params = {"project": PROJECT, "fid": ids["fid"]}
    elif path == f"{BASE}/scripts":
        kwargs["files"] = {"file": ("s.zip", b"PK")}
    elif path.endswith("/automation"):
        kwargs["json"] = {"project": PROJECT, "app_hash_id": ids["fid"], "script_id": ids["script_id"], "cloud_id": 1, "device_number": 1}
    elif path.endswith("/metrics"):
        params = {"type": "perf"}
    return wetest.client.request(method, path, params=params, **kwargs)


@pytest.mark.parametrize("row", rows_for("wetest"), ids=lambda row: f"{row.method} {row.path}")
def test_every_documented_endpoint_is_routed(wetest, row):
    """Each endpoints.tsv row answers a well-formed request with neither 404 nor 405."""
    fid = wetest.upload_app()["data"]["fid"]
    script_id = wetest.upload_script()
    test_id = wetest.submit(project=PROJECT, app_hash_id=fid, script_id=script_id, cloud_id=1, device_number=2)["test_info"]["test_id"]
    ids = {"fid": fid, "script_id": script_id, "cloud_id": 1, "test_id": test_id, "device_id": 10001}
    response = _request_for(wetest, row.method, row.filled(ids), ids)
    assert response.status_code not in (404, 405)
    assert response.json()["ret"] == 0, response.json()


# ---------------------------------------------------------------- auth


@pytest.mark.parametrize("auth", [None, (SANDBOX_SECRET_ID, "wrong"), ("other-id", SANDBOX_SECRET_KEY)])
def test_bad_credentials_get_401_with_ret_and_msg(wetest, auth):
    response = httpx.get(wetest.client.base_url.join(f"{BASE}/users/projects"), auth=auth)
    assert response.status_code == 401
    body = response.json()
    assert body["ret"] != 0 and body["msg"]


def test_credentials_come_from_options():
    with serving(credentials={"secret_id": "ci-id", "secret_key": "ci-key"}) as running:
        assert running.client.get(f"{BASE}/users/clouds").status_code == 401
        assert running.client.get(f"{BASE}/users/clouds", auth=("ci-id", "ci-key")).json()["ret"] == 0


# ---------------------------------------------------------------- seeded catalogue


def test_seeded_projects_clouds_devices_and_model_lists(wetest):
    projects = wetest.get("/users/projects")["projects"]
    assert {"project_id": PROJECT, "project_name": "Demo Project"} in projects
    clouds = wetest.get("/users/clouds")["clouds"]
    assert [c["cloud_id"] for c in clouds] == [1, 2]
    devices = wetest.get("/clouds/1/devices")["devices"]
    assert {d["model"] for d in devices} >= {"Galaxy S23", "Pixel 8"}
    assert all({"device_id", "model_id", "version", "device_state_code"} <= d.keys() for d in devices)
    lists = wetest.get("/model/list", project=PROJECT)
    assert lists["count"] == len(lists["data"]) == 2
    assert wetest.get("/clouds/99/devices")["ret"] == 1002


# ---------------------------------------------------------------- apps and scripts


def test_uploaded_app_is_found_again_by_md5(wetest):
    """The provider avoids re-uploads by asking for the md5 of the local file."""
    content = build_apk(binary_manifest("com.example.shop", "4.2"))
    uploaded = wetest.upload_app(content)["data"]
    md5 = hashlib.md5(content).hexdigest()
    assert uploaded["md5"] == md5 and uploaded["size"] == len(content)
    found = wetest.get("/platform/upload/info", project=PROJECT, hash=md5)["data"]
    assert found["fid"] == uploaded["fid"]
    assert (found["package"], found["version"]) == ("com.example.shop", "4.2")
    assert wetest.get("/platform/upload/info", project="pj-shop", hash=md5)["ret"] == 1002
    again = wetest.upload_app(content)["data"]
    assert wetest.get("/platform/upload/info", project=PROJECT, hash=md5)["data"]["fid"] == again["fid"] != uploaded["fid"]
    assert wetest.get("/platform/upload/info", project=PROJECT, hash="0" * 32)["ret"] == 1002

    assert wetest.client.delete(f"{BASE}/platform/upload/info/{again['fid']}").json()["ret"] == 0
    assert wetest.get("/platform/upload/info", project=PROJECT, fid=again["fid"])["ret"] == 1002
    assert wetest.get("/platform/upload/info", project=PROJECT, hash=md5)["data"]["fid"] == uploaded["fid"]


def test_upload_needs_a_known_project_and_an_app_extension(wetest):
    assert wetest.upload_app(project="nope")["ret"] == 1002
    assert wetest.upload_app(name="demo.exe")["ret"] == 1001


def test_script_round_trip(wetest):
    script_id = wetest.upload_script()
    script = wetest.get(f"/scripts/{script_id}")["script"]
    assert script["script_id"] == script_id and script["user"] == SANDBOX_SECRET_ID
    assert wetest.client.delete(f"{BASE}/scripts/{script_id}").json()["ret"] == 0
    assert wetest.get(f"/scripts/{script_id}")["ret"] == 1002


# ---------------------------------------------------------------- submission rules


REJECTIONS = [
    ("appium without script", {"script_id": None}, 1001, "script_id"),
    ("unknown frame_type", {"frame_type": "espresso"}, 1001, "frame_type"),
    ("device and model ids mixed", {"devices": [10001, 501]}, 1001, "mixing"),
    ("model ids as deviceids", {"devices": [501, 502]}, 1001, "deviceids"),
    ("device ids as modelids", {"devices": [10001], "device_choose_type": "modelids"}, 1001, "modelids"),
    ("unknown device_choose_type", {"device_choose_type": "random"}, 1001, "device_choose_type"),
    ("zero max_test_runtime", {"max_test_runtime": 0}, 1001, "max_test_runtime"),
    ("device runtime over test runtime", {"max_test_runtime": 300, "max_device_runtime": 600}, 1001, "max_device_runtime"),
    ("runtime not an integer", {"max_test_runtime": "long"}, 1001, "max_test_runtime"),
    ("scenarios with appium", {"scenarios": "1-3"}, 1001, "Game Loop"),
    ("resign for an apk", {"resign": True}, 1001, "iOS"),
    ("missing cloud_id", {"cloud_id": None}, 1001, "cloud_id"),
    ("unknown cloud", {"cloud_id": 77}, 1002, "cloud"),
    ("Android app on iOS cloud", {"cloud_id": 2}, 1001, "no android devices"),
    ("more devices than idle", {"device_number": 40}, 1001, "device_number"),
    ("device of another cloud", {"devices": [20001]}, 1001, "cloud 1"),
    ("unknown script", {"script_id": 5}, 1002, "script"),
    ("unknown app", {"app_hash_id": "feed"}, 1002, "app"),
]


@pytest.mark.parametrize("overrides, ret, words", [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
def test_submission_rules_answer_200_with_nonzero_ret(wetest, overrides, ret, words):
    fid = wetest.upload_app()["data"]["fid"]
    fields = {"project": PROJECT, "app_hash_id": fid, "script_id": wetest.upload_script(), "cloud_id": 1, "device_number": 2}
    fields = {k: v for k, v in {**fields, **overrides}.items() if v is not None}
    response = wetest.client.post(f"{BASE}/tests/automation", json=fields)
    assert response.status_code == 200
    assert response.json()["ret"] == ret
    assert words in response.json()["msg"]


def test_game_loop_by_model_ids_on_ios_with_resign(wetest):
    fid = wetest.upload_app(build_ipa(), name="demo.ipa")["data"]["fid"]
    body = wetest.submit(
        project=PROJECT, app_hash_id=fid, frame_type="game_loop", scenarios="1-3, 5", cloud_id=2,
        device_number=0, devices=[601, 602], device_choose_type="modelids", resign=True,
    )
    assert body["ret"] == 0, body
    devices = wetest.get(f"/tests/{body['test_info']['test_id']}/devices")["devices"]
    assert [d["model"] for d in devices] == ["iPhone 15", "iPhone 13"]
    assert all(d["case_stat"]["case_total"] == 4 for d in devices)


# ---------------------------------------------------------------- progression


def test_test_runs_then_finishes_with_results_per_device():
    """Frozen clock: testing until the job duration passes, then finished with seeded failures."""
    with serving(job_duration=60, failure_share=0.5) as wetest:
        test_id = wetest.appium_test(device_number=2)
        status = wetest.get(f"/tests/{test_id}/status")["test_status"]
        assert (status["status_code"], status["finished"], status["end_time"]) == (0, False, "")
        assert {d["result_code"] for d in wetest.get(f"/tests/{test_id}/devices")["devices"]} == {0}

        wetest.app.clock.advance(60)
        status = wetest.get(f"/tests/{test_id}/status")["test_status"]
        assert (status["status_code"], status["status"], status["finished"]) == (1, "finished", True)
        devices = wetest.get(f"/tests/{test_id}/devices", log="true", error="true", image="true")["devices"]
        assert sorted(d["result_code"] for d in devices) == [1, 2]
        failed = next(d for d in devices if d["result_code"] == 2)
        assert failed["case_stat"]["case_fail"] >= 1 and failed["errors"] and failed["test_video_url"]
        one = wetest.get(f"/tests/{test_id}/devices/{devices[0]['device_id']}")["device"]
        assert one["device_id"] == devices[0]["device_id"] and "errors" not in one
        metrics = wetest.get(f"/tests/{test_id}/devices/{devices[0]['device_id']}/metrics", type="perf")["data"]
        assert metrics and {"cpu_app", "fps", "mem_pss", "timestamp"} <= metrics[0].keys()
        summary = wetest.get(f"/tests/{test_id}/result")["test_result"]
        assert summary["result_stat"]["pass_device_number"] == 1
        assert summary["result_stat"]["exception_device_number"] == 1
        assert summary["app_info"]["package"] == "com.example.demo"


def test_cancel_stops_a_running_test():
    with serving(job_duration=60) as wetest:
        test_id = wetest.appium_test(device_number=3)
        wetest.app.clock.advance(25)  # the first of three devices ends at 20 s
        assert wetest.client.post(f"{BASE}/tests/{test_id}/cancelation").json()["ret"] == 0
        wetest.app.clock.advance(60)
        status = wetest.get(f"/tests/{test_id}/status")["test_status"]
        assert (status["status_code"], status["status"]) == (2, "canceled")
        codes = [d["result_code"] for d in wetest.get(f"/tests/{test_id}/devices")["devices"]]
        assert codes == [1, 6, 6]
        assert wetest.client.post(f"{BASE}/tests/{test_id}/cancelation").json()["ret"] == 1003


def test_runtimes_cut_devices_and_the_test():
    """A device over max_device_runtime times out (4); a test over max_test_runtime is status 3 (5 for the rest)."""
    with serving(job_duration=600) as wetest:
        device_cut = wetest.appium_test(device_number=1, max_test_runtime=1800, max_device_runtime=120)
        test_cut = wetest.appium_test(device_number=2, max_test_runtime=400, max_device_runtime=400)
        wetest.app.clock.advance(600)
        assert wetest.get(f"/tests/{device_cut}/devices")["devices"][0]["result_code"] == 4
        assert wetest.get(f"/tests/{device_cut}/status")["test_status"]["status_code"] == 1
        assert wetest.get(f"/tests/{test_cut}/status")["test_status"]["status_code"] == 3
        assert [d["result_code"] for d in wetest.get(f"/tests/{test_cut}/devices")["devices"]] == [1, 5]


def test_offline_device_is_untested(wetest):
    test_id = wetest.appium_test(devices=[10001, 10007], device_number=0)
    wetest.app.clock.advance(wetest.app.options.job_duration)
    assert [d["result_code"] for d in wetest.get(f"/tests/{test_id}/devices")["devices"]] == [1, 3]


# ---------------------------------------------------------------- persistence


def test_state_survives_a_restart_through_the_data_file(tmp_path: Path):
    data_file = tmp_path / "wetest.json"
    content = build_apk(text_manifest(package="com.example.persisted"))
    with serving(data_file=data_file) as first:
        fid = first.upload_app(content)["data"]["fid"]
        test_id = first.appium_test()
    with serving(data_file=data_file) as second:
        found = second.get("/platform/upload/info", project=PROJECT, hash=hashlib.md5(content).hexdigest())
        assert found["data"]["fid"] == fid
        assert second.get(f"/tests/{test_id}/status")["test_status"]["test_id"] == test_id
