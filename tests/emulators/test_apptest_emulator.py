"""The apptest.ai emulator over real HTTP: coverage, the doc's examples replayed, auth, result codes,
progression, and each doc variant's reading."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from labform.providers.apptest import emulator as apptest_emulator
from labform.providers.apptest.emulator import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_USER_ID,
    VARIANTS,
    build_app,
    forget_testset,
    set_maintenance,
)
from labform.providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer
from labform.providers.emulation.app import INSPECTION_HEADER
from labform.providers.emulation.sandbox import Sandbox, Tuning
from tests.apps import binary_manifest, build_apk, build_ipa, text_manifest
from tests.emulators.endpoint_rows import rows_for
from tests.emulators.example_keys import ExampleKeys, count, unseen
from tests.emulators.test_wetest_emulator import doc_mismatches

# ---------------------------------------------------------------- harness

AUTH = (SANDBOX_USER_ID, SANDBOX_ACCESS_KEY)
EXAMPLES = json.loads(Path(__file__).with_name("apptest_examples.json").read_text())


@contextmanager
def serving(variant: str = "default", **options) -> Iterator[tuple[EmulatorApp, httpx.Client]]:
    app = build_app(EmulatorOptions(clock=Clock(speed=0), **options), variant)
    with EmulatorServer(app) as server, httpx.Client(base_url=server.url, auth=AUTH, timeout=10) as client:
        yield app, client


@pytest.fixture
def emulator() -> Iterator[tuple[EmulatorApp, httpx.Client]]:
    with serving() as pair:
        yield pair


def create(
    client: httpx.Client, data: dict | str, app_file: tuple[str, bytes] | None = ("demo.apk", build_apk())
) -> dict:
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


# ---------------------------------------------------------------- the doc's own examples


def _replayed(
    app: EmulatorApp, client: httpx.Client, example: dict[str, Any], testset_id: int | None
) -> httpx.Response:
    """One Request Example as curl sends it; the doc's testset ids stand for the testset the first one started."""
    path = example["path"] if testset_id is None else example["path"].replace("55716", str(testset_id))
    files = {field: ("demo.apk", build_apk()) for field in example.get("files", {})}
    form = {key: json.dumps(value) for key, value in example.get("form", {}).items()}
    return client.request(example["method"], path, files=files or None, data=form or None)


def _junit_shape(xml: str) -> list[str]:
    """Where result_xml departs from the doc's JUnit XML Format Example (its elements and attributes)."""
    root = ElementTree.fromstring(xml.encode())
    problems = (
        [] if root.tag == "testsuites" and root.get("name") == "TestBot Test" else [f"root {root.tag} {root.attrib}"]
    )
    suites = root.findall("testsuite")
    problems += (
        []
        if len(suites) == 1 and suites[0].get("name", "").endswith(".TestBot")
        else ["one testsuite named {PROJECT NAME}.TestBot"]
    )
    for case in root.iter("testcase"):
        if not case.get("name") or not case.get("time", "").replace(".", "", 1).isdigit():
            problems.append(f"testcase {case.attrib}: a name and a time in seconds")
        child = [element.tag for element in case]
        if child not in (["system-out"], ["error"]) or (child == ["error"] and not case.find("error").get("message")):
            problems.append(
                f"testcase {case.get('name')}: {child}, not a <system-out> link or an <error message=link/>"
            )
    return problems


def test_the_docs_example_requests_get_the_docs_status_keys_and_types(capsys):
    """Each Request Example (its method, path, multipart parts), in order, once the testset is Complete for
    the reads: HTTP 200, and exactly the keys of the Response Example with the types its values have;
    the result_xml has the shape of the JUnit XML Format Example."""
    problems, replayed, testset_id = [], 0, None
    left_out = [
        f"line {e['doc_line']} {e['endpoint']} ({e['left_out']})" for e in EXAMPLES["examples"] if "left_out" in e
    ]
    with serving(failure_share=1 / 3) as (app, client):
        for example in (e for e in EXAMPLES["examples"] if "left_out" not in e):
            response = _replayed(app, client, example, testset_id)
            replayed += 1
            where = f"line {example['doc_line']} {example['endpoint']}"
            if response.status_code != example["status"] or response.json().get("result_code") != 0:
                problems.append(f"{where}: HTTP {response.status_code} {response.text[:200]}")
                continue
            problems += [f"{where}: {p}" for p in doc_mismatches(example["response"], response.json(), "body", set())]
            if "junit_format" in example:
                problems += [f"{where}: result_xml: {p}" for p in _junit_shape(response.json()["data"]["result_xml"])]
            if testset_id is None:
                testset_id = response.json()["data"]["testset_id"]
                app.clock.advance(app.options.job_duration)
    with capsys.disabled():
        print(
            f"\napptest doc examples: {replayed} replayed of {len(EXAMPLES['examples'])} (and the JUnit XML Format Example checked); left out: {', '.join(left_out) or 'none'}"
        )
    assert problems == []
    assert replayed + len(left_out) == len(EXAMPLES["examples"]) == len(rows_for("apptest"))


STATUS_COUNTS = ("total_test_cnt", "error_cnt", "fail_cnt", "initializing_cnt", "pass_cnt", "running_cnt", "stop_cnt")
# Each endpoint's response table (lines 67-70, 139-150, 214-219), under the envelope's "data".
TABLES = {
    "Run New Testset": ("data.test_count", "data.testset_id"),
    "Testset Status": (
        "data.testset_status",
        *(f"data.testset_status_detail.{key}" for key in STATUS_COUNTS),
        "data.response_time",
    ),
    "Testset Result": ("data.complete", "data.result_xml", "data.result_html", "data.result_json"),
}
# The departures a variant's reading makes (its listed choice): variant -> ExampleKeys listings.
KEY_CHOICES: dict[str, dict[str, dict[str, str]]] = {
    "default": {},
    "extra-keys": {
        "extra": {
            "data.pid": "extra-keys: the start answers the project",
            "data.testset_name": "extra-keys: the status answers the name",
            "data.testset_id": "extra-keys: the result answers the id",
        }
    },
}


def example_key_problems(variant: str) -> list[str]:
    """Each Request Example's answer, and a Running testset's status, against the example's and the table's keys."""
    examples = [e for e in EXAMPLES["examples"] if "left_out" not in e]
    keys = {
        e["endpoint"]: ExampleKeys(e["response"], table=TABLES[e["endpoint"]], **KEY_CHOICES[variant]) for e in examples
    }
    problems: list[str] = []
    testset_id = None
    with serving(variant, failure_share=1 / 3) as (app, client):
        running = create(client, VALID)["data"]["testset_id"]
        problems += keys["Testset Status"].check(client.get(f"/openapi/v2/testset/{running}").json())
        for example in examples:
            body = _replayed(app, client, example, testset_id).json()
            problems += keys[example["endpoint"]].check(body)
            if testset_id is None:
                testset_id = body["data"]["testset_id"]
                app.clock.advance(app.options.job_duration)
    return problems + unseen(keys.values())


@pytest.mark.parametrize("variant", sorted(KEY_CHOICES))
def test_every_key_of_every_doc_example_is_answered_and_no_other(variant, capsys):
    """Both ways, nested objects too; the keys a variant adds are its listed choice."""
    problems = example_key_problems(variant)
    with capsys.disabled():
        print(f"\napptest example keys ({variant}): {count(problems)}")
    assert problems == []


def test_the_examples_file_notes_each_fix_of_the_docs_json():
    fixed = {e["doc_line"]: e["fix"] for e in EXAMPLES["examples"] if "fix" in e}
    assert sorted(fixed) == [50, 130, 205]
    assert "single-quoted" in fixed[130] and "trailing comma" in fixed[205] and "backslashes" in fixed[50]


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
    (
        "login_pw over 150",
        {**VALID, "credentials": {"login_id": "u", "login_pw": "p" * 151}},
        ("demo.apk", build_apk()),
        5001,
    ),
    ("data not JSON", "{pid: 509", ("demo.apk", build_apk()), 5001),
    ("empty app file", VALID, ("demo.apk", b""), 6001),
    ("not a zip", VALID, ("demo.apk", b"not a zip"), 4032),
    ("manifest not XML", VALID, ("demo.apk", build_apk(b"<manifest")), 4040),
    ("no launcher activity", VALID, ("demo.apk", build_apk(text_manifest(launcher=False))), 4041),
    (
        "compiled manifest without launcher",
        VALID,
        ("demo.apk", build_apk(binary_manifest("com.x", "1", launcher=False))),
        4041,
    ),
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
    """4053 "Invalid request parameter : (testset_id)" where two places of the doc agree (99, 284); the result
    endpoint's own table gives 6003 "Data Does Not Exist" (268)."""
    app, client = emulator
    for testset in ("999999", "not-a-number"):
        status = client.get(f"/openapi/v2/testset/{testset}").json()
        assert (status["result_code"], status["reason"]) == (
            4053,
            f"Invalid request parameter : (testset_id : {testset})",
        )
        assert client.get(f"/openapi/v2/testset/{testset}/result").json()["result_code"] == 6003
    testset_id = create(client, VALID)["data"]["testset_id"]
    forget_testset(app, testset_id)
    assert client.get(f"/openapi/v2/testset/{testset_id}/result").json()["result_code"] == 6003


def test_maintenance_answers_8000_until_switched_off(emulator):
    app, client = emulator
    token = {INSPECTION_HEADER: app.inspection_token or ""}
    httpx.post(client.base_url.join("/_emulator/maintenance"), params={"on": "1"}, headers=token)
    assert client.get("/openapi/v2/testset/1").json()["result_code"] == 8000
    assert create(client, VALID)["result_code"] == 8000
    set_maintenance(app, False)
    assert client.get("/openapi/v2/testset/1").json()["result_code"] == 4053


# ---------------------------------------------------------------- doc variants


def _code(
    data: dict | str, app_file: tuple[str, bytes] | None = ("demo.apk", build_apk())
) -> Callable[[EmulatorApp, httpx.Client], int]:
    return lambda app, client: create(client, data, app_file)["result_code"]


def _stored_time_limit(data: dict) -> Callable[[EmulatorApp, httpx.Client], int]:
    def probe(app: EmulatorApp, client: httpx.Client) -> int:
        create(client, data)
        return next(iter(app.store.data["testsets"].values()))["time_limit"]

    return probe


def _keys_of_start(app: EmulatorApp, client: httpx.Client) -> list[str]:
    return sorted(create(client, VALID)["data"])


def _result_msg(app: EmulatorApp, client: httpx.Client) -> Any:
    testset_id = create(client, VALID)["data"]["testset_id"]
    app.clock.advance(app.options.job_duration)
    return client.get(f"/openapi/v2/testset/{testset_id}/result").json()["result_msg"]


EVERY_KEY = {**VALID, "callback": "", "credentials": {"login_id": "", "login_pw": ""}}

# variant -> (what is probed, its answer on the default server, its answer on the variant's)
PROBES = {
    "strict-required": (_code(VALID), 0, 4000),
    "time-limit-only": (_stored_time_limit({"pid": 509, "testset_name": "x", "time_limmit": 7}), 7, 10),
    "time-limmit-only": (_stored_time_limit({"pid": 509, "testset_name": "x", "time_limit": 7}), 7, 10),
    "unknown-keys-refused": (_code({**VALID, "priority": "high"}), 0, 5001),
    "bounds-unchecked": (_code({**VALID, "time_limit": 45}), 5001, 0),
    "empty-app-4032": (_code(VALID, ("demo.apk", b"")), 6001, 4032),
    "unknown-status-5002": (
        lambda app, client: client.get("/openapi/v2/testset/999999").json()["result_code"],
        4053,
        5002,
    ),
    "result-msg-empty": (_result_msg, 0, ""),
    "extra-keys": (_keys_of_start, ["test_count", "testset_id"], ["pid", "test_count", "testset_id"]),
    "auth-in-envelope": (
        lambda app, client: httpx.get(client.base_url.join("/openapi/v2/testset/1")).status_code,
        401,
        200,
    ),
}


def test_every_variant_changes_one_reading_and_is_in_the_docstring_table():
    defaults = dataclasses.asdict(VARIANTS["default"])
    for name, variants in VARIANTS.items():
        changed = {key for key, value in dataclasses.asdict(variants).items() if value != defaults[key]}
        assert len(changed) == (0 if name == "default" else 1), name
        assert name == "default" or f"``{name}``" in apptest_emulator.__doc__, name
    assert set(PROBES) == set(VARIANTS) - {"default"}


def test_the_strict_server_takes_every_key_of_the_table_blank_or_not():
    with serving("strict-required") as (_, client):
        assert create(client, EVERY_KEY)["result_code"] == 0
        assert create(client, {**EVERY_KEY, "time_limit": None})["result_code"] == 0  # empty: the project's time limit
        missing = {k: v for k, v in EVERY_KEY.items() if k != "callback"}
        assert create(client, missing)["reason"].endswith("(callback)")


@pytest.mark.parametrize("variant", sorted(PROBES))
def test_each_variant_serves_its_reading_and_the_default_the_other(variant):
    probe, default, read = PROBES[variant]
    for name, expected in (("default", default), (variant, read)):
        with serving(name) as (app, client):
            assert probe(app, client) == expected, name


@pytest.mark.parametrize("variant", ["unknown-status-5002"])
def test_the_sandbox_serves_each_new_variant(variant):
    """``labform sandbox --variant apptest=NAME`` starts it, reading the doc as the variant does."""
    probe, _, read = PROBES[variant]
    with Sandbox(["apptest"], None, tuning=Tuning(variants={"apptest": variant})) as sandbox:
        server = sandbox.servers["apptest"]
        with httpx.Client(base_url=server.url, auth=AUTH, timeout=10) as client:
            assert probe(server.app, client) == read
