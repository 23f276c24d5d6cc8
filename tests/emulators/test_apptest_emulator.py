"""The apptest.ai emulator over real HTTP: coverage, auth, result codes, progression.

Also home of the app-file builders (APK with text or compiled manifest, IPA)
that the WeTest emulator tests import too.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator
from xml.etree import ElementTree

import httpx
import pytest

from providers.apptest.emulator import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_USER_ID,
    build_app,
    set_maintenance,
)
from providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer
from tests.apps import binary_manifest, build_apk, build_ipa, text_manifest
from tests.emulators.endpoint_rows import rows_for

# ---------------------------------------------------------------- harness

AUTH = (SANDBOX_USER_ID, SANDBOX_ACCESS_KEY)


@contextmanager
def serving(**options) -> Iterator[tuple[EmulatorApp, httpx.Client]]:
    app = build_app(EmulatorOptions(clock=Clock(speed=0), **options))
    with EmulatorServer(app) as server, httpx.Client(base_url=server.url, auth=AUTH, timeout=10) as client:
        yield app, client


@pytest.fixture
def emulator() -> Iterator[tuple[EmulatorApp, httpx.Client]]:
    with serving() as pair:
        yield pair


def create(client: httpx.Client, data: dict | str, app_file: tuple[str, bytes] | None = ("demo.apk", build_apk())) -> dict:
    files = {"app_file": app_file} if app_file else None
    form = {"data": data if isinstance(data, str) else json.dumps(data)}
    response = client.post("/openapi/v2/testset", files=files, data=form)
    assert response.status_code == 200
    return response.json()


VALID = {"pid": 509, "testset_name": "Nightly smoke", "time_limit": 5, "use_vo": False}


# ---------------------------------------------------------------- coverage


@pytest.mark.parametrize("row", rows_for("apptest"), ids=lambda row: f"{row.method} {row.path}")
def test_every_documented_endpoint_is_routed(emulator, row):
    """Each endpoints.tsv row answers a well-formed request with neither 404 nor 405."""
    app, client = emulator
    testset_id = create(client, VALID)["data"]["testset_id"]
    app.clock.advance(app.options.job_duration)
    path = row.filled({"testset_id": testset_id})
    if row.method == "POST":
        response = client.post(path, files={"app_file": ("demo.apk", build_apk())}, data={"data": json.dumps(VALID)})
    else:
        response = client.request(row.method, path)
    assert response.status_code not in (404, 405)
    assert response.json()["result_code"] == 0


# ---------------------------------------------------------------- auth


@pytest.mark.parametrize("auth", [None, ("sandbox-apptest-user", "wrong"), ("someone", SANDBOX_ACCESS_KEY)])
def test_bad_credentials_are_rejected_with_401(emulator, auth):
    """The doc is silent on bad credentials: 401 in the usual envelope."""
    _, client = emulator
    response = httpx.get(client.base_url.join("/openapi/v2/testset/1"), auth=auth)
    assert response.status_code == 401
    assert response.json()["result_code"] == 401


def test_unencoded_basic_pair_as_the_doc_writes_it_is_accepted(emulator):
    """The doc's header reads ``Basic {user_id}:{access_key}``, not base64."""
    app, client = emulator
    testset_id = create(client, VALID)["data"]["testset_id"]
    header = {"Authorization": f"Basic {SANDBOX_USER_ID}:{SANDBOX_ACCESS_KEY}"}
    response = httpx.get(client.base_url.join(f"/openapi/v2/testset/{testset_id}"), headers=header)
    assert response.json()["result_code"] == 0


def test_credentials_come_from_options():
    with serving(credentials={"user_id": "ci", "access_key": "s3cret"}) as (_, client):
        assert client.get("/openapi/v2/testset/1").status_code == 401
        assert client.get("/openapi/v2/testset/1", auth=("ci", "s3cret")).json()["result_code"] == 4053


# ---------------------------------------------------------------- result codes of Run New Testset


def _broken_plist_ipa() -> bytes:
    return build_ipa(plist=b"<?xml version='1.0'?><plist><dict><key>x</key>")


CASES = [
    ("missing pid", {"testset_name": "x"}, ("demo.apk", build_apk()), 4000),
    ("missing testset_name", {"pid": 509}, ("demo.apk", build_apk()), 4000),
    ("missing app_file", VALID, None, 4051),
    ("unsupported extension", VALID, ("demo.exe", build_apk()), 4050),
    ("unknown pid", {**VALID, "pid": 4242}, ("demo.apk", build_apk()), 4052),
    ("non-numeric pid", {**VALID, "pid": "abc"}, ("demo.apk", build_apk()), 4052),
    ("time_limit 31", {**VALID, "time_limit": 31}, ("demo.apk", build_apk()), 5001),
    ("time_limmit 4", {"pid": 509, "testset_name": "x", "time_limmit": 4}, ("demo.apk", build_apk()), 5001),
    ("name over 100", {**VALID, "testset_name": "n" * 101}, ("demo.apk", build_apk()), 5001),
    ("callback over 250", {**VALID, "callback": "https://h/" + "c" * 250}, ("demo.apk", build_apk()), 5001),
    ("login_pw over 150", {**VALID, "credentials": {"login_id": "u", "login_pw": "p" * 151}}, ("demo.apk", build_apk()), 5001),
    ("data not JSON", "{pid: 509", ("demo.apk", build_apk()), 5001),
    ("empty app file", VALID, ("demo.apk", b""), 6001),
    ("not a zip", VALID, ("demo.apk", b"not a zip"), 4032),
    ("manifest not XML", VALID, ("demo.apk", build_apk(b"<manifest")), 4040),
    ("no launcher activity", VALID, ("demo.apk", build_apk(text_manifest(launcher=False))), 4041),
    ("compiled manifest without launcher", VALID, ("demo.apk", build_apk(binary_manifest("com.x", "1", launcher=False))), 4041),
    ("unreadable Info.plist", {**VALID, "pid": 510}, ("demo.ipa", _broken_plist_ipa()), 4030),
    ("IPA not development signed", {**VALID, "pid": 510}, ("demo.ipa", build_ipa(development=False)), 4031),
    ("iOS app in Android project", VALID, ("demo.ipa", build_ipa()), 4055),
    ("project without device preset", {**VALID, "pid": 511}, ("demo.apk", build_apk()), 4080),
    ("project without available device", {**VALID, "pid": 512}, ("demo.apk", build_apk()), 4081),
]


@pytest.mark.parametrize("data, app_file, code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_inputs_get_their_documented_result_code(emulator, data, app_file, code):
    _, client = emulator
    body = create(client, data, app_file)
    assert body["result_code"] == code
    assert body["result_msg"] and body["reason"]


def test_missing_data_part_is_4000(emulator):
    _, client = emulator
    response = client.post("/openapi/v2/testset", files={"app_file": ("demo.apk", build_apk())})
    assert response.json()["result_code"] == 4000
    assert "(data)" in response.json()["reason"]


def test_compiled_manifest_with_launcher_and_ios_app_are_accepted(emulator):
    _, client = emulator
    assert create(client, VALID, ("demo.apk", build_apk(binary_manifest("com.x", "3.0"))))["result_code"] == 0
    body = create(client, {**VALID, "pid": 510}, ("demo.ipa", build_ipa()))
    assert body["result_code"] == 0
    assert body["data"]["test_count"] == 2


def test_time_limmit_spelling_is_read_and_caps_the_run():
    """The doc's table spells it ``time_limmit``: 5 minutes cuts a 10-minute job to 5."""
    with serving(job_duration=600) as (app, client):
        body = create(client, {"pid": 509, "testset_name": "typo", "time_limmit": 5})
        assert body["result_code"] == 0
        testset_id = body["data"]["testset_id"]
        app.clock.advance(300)
        status = client.get(f"/openapi/v2/testset/{testset_id}").json()["data"]
        assert status["testset_status"] == "Complete"


# ---------------------------------------------------------------- status and result


def test_testset_runs_then_completes_with_parsable_junit():
    with serving(job_duration=60, failure_share=1 / 3) as (app, client):
        testset_id = create(client, VALID)["data"]["testset_id"]

        status = client.get(f"/openapi/v2/testset/{testset_id}").json()["data"]
        assert status["testset_status"] == "Running"
        assert status["testset_status_detail"]["initializing_cnt"] == 3
        assert client.get(f"/openapi/v2/testset/{testset_id}/result").json()["result_code"] == 6002

        app.clock.advance(30)
        detail = client.get(f"/openapi/v2/testset/{testset_id}").json()["data"]["testset_status_detail"]
        assert detail["running_cnt"] >= 1 and detail["total_test_cnt"] == 3

        app.clock.advance(30)
        status = client.get(f"/openapi/v2/testset/{testset_id}").json()["data"]
        assert status["testset_status"] == "Complete"
        assert (status["testset_status_detail"]["pass_cnt"], status["testset_status_detail"]["fail_cnt"]) == (2, 1)

        result = client.get(f"/openapi/v2/testset/{testset_id}/result").json()
        assert result["result_code"] == 0 and result["data"]["complete"] is True
        suites = ElementTree.fromstring(result["data"]["result_xml"].encode())
        assert suites.tag == "testsuites"
        cases = suites.findall("./testsuite/testcase")
        assert len(cases) == 3
        assert len([c for c in cases if c.find("error") is not None]) == 1
        assert json.loads(result["data"]["result_json"])["testsuites"]["testsuite"][0]["testcase"]


def test_unknown_testset_is_4053_for_status_and_6003_for_result(emulator):
    _, client = emulator
    assert client.get("/openapi/v2/testset/999999").json()["result_code"] == 4053
    assert client.get("/openapi/v2/testset/999999/result").json()["result_code"] == 6003


def test_maintenance_answers_8000_until_switched_off(emulator):
    app, client = emulator
    httpx.post(client.base_url.join("/_emulator/maintenance"), params={"on": "1"})
    assert client.get("/openapi/v2/testset/1").json()["result_code"] == 8000
    assert create(client, VALID)["result_code"] == 8000
    set_maintenance(app, False)
    assert client.get("/openapi/v2/testset/1").json()["result_code"] == 4053
