"""The WeTest emulator over real HTTP: coverage, the doc's examples replayed, auth, submission rules,
progression, and each doc variant's reading."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from labform.providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer
from labform.providers.emulation.sandbox import Sandbox, Tuning
from labform.providers.wetest import emulator as wetest_emulator
from labform.providers.wetest.emulator import SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY, VARIANTS, build_app
from tests.apps import binary_manifest, build_apk, build_ipa, text_manifest
from tests.emulators.endpoint_rows import rows_for
from tests.emulators.example_keys import ExampleKeys, count, unseen

BASE = "/cloudtest/v1"
PROJECT = "pj-demo"
EXAMPLES = json.loads(Path(__file__).with_name("wetest_examples.json").read_text())


class WeTest:
    """A running emulator and a client speaking its documented calls."""

    def __init__(self, app: EmulatorApp, client: httpx.Client):
        self.app = app
        self.client = client

    def upload_app(
        self, content: bytes | None = None, name: str = "demo.apk", project: str = PROJECT
    ) -> dict[str, Any]:
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
        fields = {
            "project": PROJECT,
            "app_hash_id": fid,
            "script_id": self.upload_script(),
            "cloud_id": 1,
            "device_number": 3,
        }
        body = self.submit(**{**fields, **overrides})
        assert body["ret"] == 0, body
        return body["test_info"]["test_id"]

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.client.get(BASE + path, params=params)
        assert response.status_code == 200
        return response.json()


@contextmanager
def serving(variant: str = "default", **options: Any) -> Iterator[WeTest]:
    app = build_app(EmulatorOptions(clock=Clock(speed=0), **options), variant)
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
        kwargs["json"] = {
            "project": PROJECT,
            "app_hash_id": ids["fid"],
            "script_id": ids["script_id"],
            "cloud_id": 1,
            "device_number": 1,
        }
    elif path.endswith("/metrics"):
        params = {"type": "perf"}
    return wetest.client.request(method, path, params=params, **kwargs)


@pytest.mark.parametrize("row", rows_for("wetest"), ids=lambda row: f"{row.method} {row.path}")
def test_every_documented_endpoint_is_routed(wetest, row):
    """Each endpoints.tsv row answers a well-formed request with neither 404 nor 405."""
    fid = wetest.upload_app()["data"]["fid"]
    script_id = wetest.upload_script()
    test_id = wetest.submit(project=PROJECT, app_hash_id=fid, script_id=script_id, cloud_id=1, device_number=2)[
        "test_info"
    ]["test_id"]
    ids = {"fid": fid, "script_id": script_id, "cloud_id": 1, "test_id": test_id, "device_id": 10001}
    response = _request_for(wetest, row.method, row.filled(ids), ids)
    assert response.status_code not in (404, 405)
    assert response.json()["ret"] == 0, response.json()


# ---------------------------------------------------------------- the doc's own examples

DOC_TYPES = {"string": str, "int": int, "bool": bool, "float": (int, float)}


def doc_type(example: Any) -> Any:
    """The type the doc gives a value: a type word (``int``) or a sample value (``0``, ``8.0``, ``""``)."""
    if isinstance(example, str):
        return DOC_TYPES.get(example, str)
    return (int, float) if isinstance(example, float) else type(example)


def doc_mismatches(example: Any, answer: Any, where: str, filled: set[str]) -> list[str]:
    """Where a value of ``answer`` is not of the type the doc's example gives it (its keys are checked by
    tests/emulators/example_keys.py); ``filled`` collects the lists checked item by item (a list the answer
    leaves empty shows no item to check). The apptest.ai emulator test uses it too."""
    if isinstance(example, dict):
        if not isinstance(answer, dict):
            return [f"{where}: not an object"]
        return [
            p
            for key in example.keys() & answer.keys()
            for p in doc_mismatches(example[key], answer[key], f"{where}.{key}", filled)
        ]
    if isinstance(example, list):
        if not isinstance(answer, list):
            return [f"{where}: not a list"]
        if answer:
            filled.add(where)
        return [p for item in answer for p in doc_mismatches(example[0], item, f"{where}[]", filled)]
    wanted = doc_type(example)
    if isinstance(answer, bool) and wanted is not bool:
        return [f"{where}: {answer!r} is a bool, the doc's is {example!r}"]
    return [] if isinstance(answer, wanted) else [f"{where}: {answer!r} is not the doc's {example!r}"]


def list_paths(example: Any, where: str) -> list[str]:
    """Where the doc's example holds a list (named as ``doc_mismatches`` names them)."""
    if isinstance(example, dict):
        return [path for key, value in example.items() for path in list_paths(value, f"{where}.{key}")]
    if isinstance(example, list):
        return [where, *list_paths(example[0], f"{where}[]")]
    return []


class DocWorld:
    """The values the doc's placeholders stand for, taken from the objects the replay made."""

    def __init__(self, wetest: WeTest):
        self.wetest = wetest
        self.values: dict[str, Any] = {
            "<project>": PROJECT,
            "<cloud_id>": 1,
            "<frame_type>": "appium",
            "<log>": "true",
            "<image>": "true",
            "<error>": "true",
        }

    def fill(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, str) and value in self.values:
            return self.values[value]
        if isinstance(value, str):
            return re.sub(r"<\w+>", lambda m: str(self.values[m.group(0)]), value)
        return value

    def learn(self, example: dict[str, Any], body: dict[str, Any]) -> None:
        """The ids an answer gives, for the examples after it."""
        if example["endpoint"] == "Upload App":
            self.values["<fid>"] = self.values["<app_id>"] = body["data"]["fid"]
        elif example["endpoint"] == "Upload Script":
            self.values["<script_id>"] = body["script"]["script_id"]
        elif example["endpoint"] == "Submit Automation Test":
            self.values["<test_id>"] = test_id = body["test_info"]["test_id"]
            self.wetest.app.clock.advance(
                self.wetest.app.options.job_duration
            )  # the reads that follow see a finished test
            devices = self.wetest.get(f"/tests/{test_id}/devices")["devices"]
            self.values["<device_id>"] = next(
                d["device_id"] for d in devices if d["result_code"] != 1
            )  # the failed one: its errors show

    def send(self, example: dict[str, Any]) -> httpx.Response:
        self.values.setdefault("<name>", next(iter(example.get("files", {}).values()), None))
        files = {
            field: (name, build_apk() if name.endswith(".apk") else b"PK script")
            for field, name in example.get("files", {}).items()
        }
        return self.wetest.client.request(
            example["method"],
            self.fill(example["path"]),
            params=self.fill(example.get("query", {})),
            json=self.fill(example.get("json")),
            files=files or None,
        )


def test_the_docs_example_requests_get_the_docs_status_keys_and_types(capsys):
    """Each Sample Request of the doc, replayed (its method, path, query, body; ids from the objects made
    before it): HTTP 200, ret 0, and exactly the keys of the doc's Output Parameters with their types."""
    problems, filled, replayed = [], set(), 0
    left_out = [
        f"line {e['doc_line']} {e['endpoint']} ({e['left_out']})" for e in EXAMPLES["examples"] if "left_out" in e
    ]
    with serving(failure_share=0.5) as wetest:
        world = DocWorld(wetest)
        for example in (e for e in EXAMPLES["examples"] if "left_out" not in e):
            response = world.send(example)
            replayed += 1
            where = f"line {example['doc_line']} {example['endpoint']}"
            if response.status_code != example["status"] or response.json().get("ret") != 0:
                problems.append(f"{where}: HTTP {response.status_code} {response.text[:200]}")
                continue
            problems += [f"{where}: {p}" for p in doc_mismatches(example["response"], response.json(), "body", filled)]
            world.learn(example, response.json())
    with capsys.disabled():
        print(
            f"\nwetest doc examples: {replayed} replayed of {len(EXAMPLES['examples'])}; left out: {', '.join(left_out) or 'none'}"
        )
    assert problems == []
    assert replayed + len(left_out) == len(EXAMPLES["examples"]) == len(rows_for("wetest"))
    never_filled = {path for e in EXAMPLES["examples"] for path in list_paths(e["response"], "body")} - filled
    assert never_filled == set(), f"lists answered empty every time, so their items went unchecked: {never_filled}"


# The doc's Output Parameters are example and table in one, so an endpoint's reference keys are its example's.
# Departures each variant's reading makes (its listed choice): variant -> ExampleKeys listings.
DEVICE_DETAILS = ("errors", "images", "mobile_log_url", "script_log_url", "test_video_url")
KEY_CHOICES: dict[str, dict[str, dict[str, str]]] = {
    "default": {},
    "extra-keys": {
        "extra": {
            **{f"data.{key}": "extra-keys: the upload answers the whole app" for key in ("size", "md5", "url")},
            **{f"data.{key}": "extra-keys: the upload answers the whole app" for key in ("name", "package")},
            **{f"data.{key}": "extra-keys: the upload answers the whole app" for key in ("version", "icon_url")},
            "script.user": "extra-keys",
            "script.project": "extra-keys",
            "test_info.device_number": "extra-keys",
            "test_status.frame_type": "extra-keys",
            "devices[].cpu_ghz": "extra-keys",
        }
    },
    "unknown-time-absent": {
        "conditional": {
            path: "unknown-time-absent: left out until known"
            for where in ("test_status", "test_result", "devices[]", "device")
            for path in (
                f"{where}.end_time",
                *(() if where.startswith("test_") else (f"{where}.device_start_time", f"{where}.cost_info[].end_time")),
            )
        }
    },
    "details-only-when-asked": {
        "conditional": {
            f"{where}.{key}": "details-only-when-asked: only with error / image / log=true (348, 355, 361)"
            for where in ("devices[]", "device")
            for key in DEVICE_DETAILS
        }
    },
}


def example_key_problems(variant: str) -> list[str]:
    """Every replayable example's answer, then the device reads asking for nothing and a running test's
    reads, against the example's keys (both ways), with the variant's listed departures."""
    examples = [e for e in EXAMPLES["examples"] if "left_out" not in e]
    keys = {e["endpoint"]: ExampleKeys(e["response"], **KEY_CHOICES[variant]) for e in examples}
    problems: list[str] = []
    with serving(variant, failure_share=0.5) as wetest:
        world = DocWorld(wetest)
        for example in examples:
            body = world.send(example).json()
            problems += keys[example["endpoint"]].check(body)
            world.learn(example, body)
        for example in (e for e in examples if e["endpoint"].startswith(("Get Results", "Get Specific"))):
            body = world.send({**example, "query": {}}).json()
            problems += keys[example["endpoint"]].check(body)
        running = wetest.appium_test()
        for endpoint, path in (
            ("Get Test Status", f"/tests/{running}/status"),
            ("Get Results of Devices in Test", f"/tests/{running}/devices"),
            ("Get Summary Information Of Test", f"/tests/{running}/result"),
        ):
            problems += keys[endpoint].check(wetest.get(path))
    return problems + unseen(keys.values())


@pytest.mark.parametrize("variant", sorted(KEY_CHOICES))
def test_every_key_of_every_doc_example_is_answered_and_no_other(variant, capsys):
    """Both ways, objects and list items too; the departures a variant makes are its listed choices."""
    problems = example_key_problems(variant)
    with capsys.disabled():
        print(f"\nwetest example keys ({variant}): {count(problems)}")
    assert problems == []


def test_the_examples_file_notes_each_fix_of_the_docs_json():
    fixed = {e["response_line"]: e["fix"] for e in EXAMPLES["examples"] if "fix" in e}
    assert sorted(fixed) == [28, 49, 75, 92, 114, 137, 158, 179, 216, 261, 289, 307, 334, 411, 486, 514, 579]
    assert "comma missing" in fixed[261]


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
    assert list(uploaded) == ["fid"]  # the doc's upload answer
    md5 = hashlib.md5(content).hexdigest()
    found = wetest.get("/platform/upload/info", project=PROJECT, hash=md5)["data"]
    assert found["fid"] == uploaded["fid"] and found["md5"] == md5 and found["size"] == len(content)
    assert (found["package"], found["version"]) == ("com.example.shop", "4.2")
    assert wetest.get("/platform/upload/info", project="pj-shop", hash=md5)["ret"] == 1002
    again = wetest.upload_app(content)["data"]
    assert (
        wetest.get("/platform/upload/info", project=PROJECT, hash=md5)["data"]["fid"] == again["fid"] != uploaded["fid"]
    )
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
    ("runtime not an integer", {"max_test_runtime": "long"}, 1001, "max_test_runtime"),
    ("missing cloud_id", {"cloud_id": None}, 1001, "cloud_id"),
    ("missing device_number", {"device_number": None}, 1001, "device_number"),
    ("unknown cloud", {"cloud_id": 77}, 1002, "cloud"),
    ("no device to test", {"device_number": 0}, 1001, "device_number"),
    ("device of another cloud", {"devices": [20001]}, 1001, "cloud 1"),
    ("unknown script", {"script_id": 5}, 1002, "script"),
    ("unknown app", {"app_hash_id": "feed"}, 1002, "app"),
]


@pytest.mark.parametrize("overrides, ret, words", [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
def test_submission_rules_answer_200_with_nonzero_ret(wetest, overrides, ret, words):
    fid = wetest.upload_app()["data"]["fid"]
    fields = {
        "project": PROJECT,
        "app_hash_id": fid,
        "script_id": wetest.upload_script(),
        "cloud_id": 1,
        "device_number": 2,
    }
    fields = {k: v for k, v in {**fields, **overrides}.items() if v is not None}
    response = wetest.client.post(f"{BASE}/tests/automation", json=fields)
    assert response.status_code == 200
    assert response.json()["ret"] == ret
    assert words in response.json()["msg"]


def _submitted(wetest: WeTest, **overrides: Any) -> list[dict[str, Any]]:
    """The device results of a test submitted with ``overrides`` (which must be accepted)."""
    test_id = wetest.appium_test(**overrides)
    wetest.app.clock.advance(wetest.app.options.job_duration)
    return wetest.get(f"/tests/{test_id}/devices")["devices"]


def test_what_the_doc_does_not_forbid_is_accepted(wetest):
    """No rule of the doc relates the runtimes, bounds device_number or matches the app to the cloud:
    the test runs, the runtimes cut it, the cloud's devices make up the number, a foreign app is incompatible."""
    assert len(_submitted(wetest, max_test_runtime=300, max_device_runtime=600)) == 3
    wetest.appium_test(device_number=2)  # keeps 10001 and 10002 busy
    assert [d["device_id"] for d in _submitted(wetest, device_number=40)] == [
        10003,
        10004,
        10005,
        10006,
        10001,
        10002,
        10007,
    ]  # idle, busy, offline
    on_ios = _submitted(wetest, cloud_id=2, device_number=2)
    assert {d["result_code"] for d in on_ios} == {2} and all(
        d["case_stat"]["case_fail"] == d["case_stat"]["case_total"] for d in on_ios
    )


def _submit_ret(wetest: WeTest, **overrides: Any) -> int:
    """The ret of an appium test of an .apk submitted with ``overrides``."""
    fields = {
        "project": PROJECT,
        "app_hash_id": wetest.upload_app()["data"]["fid"],
        "script_id": wetest.upload_script(),
        "cloud_id": 1,
        "device_number": 1,
    }
    return wetest.submit(**fields, **overrides)["ret"]


def test_what_the_parameter_table_only_scopes_is_accepted_and_not_used(wetest):
    """ "scenarios(Game Loop only)" and "resign(iOS only)" (doc lines 257-259) state no refusal: an appium
    test of an .apk with them runs as without them (the refusals are variants)."""
    test_id = wetest.appium_test(scenarios="not loops", scenario_labels="smoke", resign=True)
    stored = wetest.app.store.data["tests"][str(test_id)]
    assert (stored["scenarios"], stored["resign"]) == ([1], True)  # the default loop, never run by appium
    wetest.app.clock.advance(wetest.app.options.job_duration)
    assert wetest.get(f"/tests/{test_id}/status")["test_status"]["status_code"] == 1


def test_game_loop_by_model_ids_on_ios_with_resign(wetest):
    fid = wetest.upload_app(build_ipa(), name="demo.ipa")["data"]["fid"]
    body = wetest.submit(
        project=PROJECT,
        app_hash_id=fid,
        frame_type="game_loop",
        scenarios="1-3, 5",
        cloud_id=2,
        device_number=0,
        devices=[601, 602],
        device_choose_type="modelids",
        resign=True,
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
        # Not asked for: every detail key there, empty (doc lines 348-364).
        assert one["device_id"] == devices[0]["device_id"] and (one["errors"], one["mobile_log_url"]) == ([], "")
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
        # An ended test has nothing to cancel: ret 0, and it stays as it ended.
        assert wetest.client.post(f"{BASE}/tests/{test_id}/cancelation").json()["ret"] == 0
        assert wetest.get(f"/tests/{test_id}/status")["test_status"]["status_code"] == 2


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


# ---------------------------------------------------------------- doc variants


def _unknown_script(wetest: WeTest) -> httpx.Response:
    return wetest.client.get(f"{BASE}/scripts/424242")


def _running_status(wetest: WeTest) -> dict[str, Any]:
    return wetest.get(f"/tests/{wetest.appium_test()}/status")["test_status"]


def _cancelled_status(wetest: WeTest) -> dict[str, Any]:
    test_id = wetest.appium_test()
    wetest.client.post(f"{BASE}/tests/{test_id}/cancelation")
    return wetest.get(f"/tests/{test_id}/status")["test_status"]


def _ended_then_cancelled(wetest: WeTest) -> int:
    test_id = wetest.appium_test()
    wetest.app.clock.advance(wetest.app.options.job_duration)
    return wetest.client.post(f"{BASE}/tests/{test_id}/cancelation").json()["ret"]


def _pass_rate(wetest: WeTest) -> float:
    test_id = wetest.appium_test()
    wetest.app.clock.advance(wetest.app.options.job_duration)
    return wetest.get(f"/tests/{test_id}/result")["test_result"]["result_stat"]["pass_rate"]


def _hash_answer(wetest: WeTest) -> bool:
    """Whether a hash look-up answers the first of two uploads of the same bytes."""
    first, _ = (wetest.upload_app()["data"]["fid"] for _ in range(2))
    return (
        wetest.get("/platform/upload/info", project=PROJECT, hash=hashlib.md5(build_apk()).hexdigest())["data"]["fid"]
        == first
    )


def _missing_device_runtime(wetest: WeTest) -> int:
    fid = wetest.upload_app()["data"]["fid"]
    return wetest.submit(
        project=PROJECT,
        app_hash_id=fid,
        script_id=wetest.upload_script(),
        cloud_id=1,
        device_number=1,
        frame_type="appium",
        max_test_runtime=900,
    )["ret"]


TIME = {
    "datetime": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
    "iso8601": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
    "epoch_seconds": r"\d{10}",
    "epoch_millis": r"\d{13}",
}

# variant -> (what is probed, its answer on the default server, its answer on the variant's)
PROBES = {
    "errors-http-status": (
        lambda w: (_unknown_script(w).status_code, _unknown_script(w).json()["ret"]),
        (200, 1002),
        (404, 1002),
    ),
    "not-found-ret-404": (lambda w: _unknown_script(w).json()["ret"], 1002, 404),
    "one-ret-code": (
        lambda w: (_unknown_script(w).json()["ret"], w.upload_app(name="x.exe")["ret"]),
        (1002, 1001),
        (-1, -1),
    ),
    "auth-in-envelope": (lambda w: httpx.get(w.client.base_url.join(f"{BASE}/users/projects")).status_code, 401, 200),
    "time-iso8601": (lambda w: bool(re.fullmatch(TIME["iso8601"], _running_status(w)["start_time"])), False, True),
    "time-epoch-seconds": (
        lambda w: bool(re.fullmatch(TIME["epoch_seconds"], _running_status(w)["start_time"])),
        False,
        True,
    ),
    "time-epoch-millis": (
        lambda w: bool(re.fullmatch(TIME["epoch_millis"], _running_status(w)["start_time"])),
        False,
        True,
    ),
    "unknown-time-absent": (lambda w: _running_status(w).get("end_time"), "", None),
    "extra-keys": (
        lambda w: sorted(w.upload_app()["data"]),
        ["fid"],
        ["fid", "icon_url", "md5", "name", "package", "size", "url", "version"],
    ),
    "strict-required": (_missing_device_runtime, 0, 1001),
    "idle-devices-only": (lambda w: len(_submitted(w, device_number=40)), 7, 6),
    "device-number-caps-devices": (lambda w: len(_submitted(w, devices=[10001, 10002, 10003], device_number=2)), 3, 2),
    "cancel-ended-refused": (_ended_then_cancelled, 0, 1003),
    "platform-mismatch-refused": (
        lambda w: w.submit(
            project=PROJECT,
            app_hash_id=w.upload_app()["data"]["fid"],
            script_id=w.upload_script(),
            cloud_id=2,
            device_number=1,
        )["ret"],
        0,
        1001,
    ),
    "finished-only-status-1": (
        lambda w: (_cancelled_status(w)["status_code"], _cancelled_status(w)["finished"]),
        (2, True),
        (2, False),
    ),
    "rates-percent": (_pass_rate, 1.0, 100.0),
    "details-only-when-asked": (
        lambda w: sorted(set(_submitted(w, device_number=1)[0]) & {"errors", "images", "mobile_log_url"}),
        ["errors", "images", "mobile_log_url"],
        [],
    ),
    "scenarios-game-loop-only": (lambda w: _submit_ret(w, scenarios="1-3", scenario_labels="smoke"), 0, 1001),
    "resign-ios-only": (lambda w: _submit_ret(w, resign=True), 0, 1001),
    "hash-oldest-upload": (_hash_answer, False, True),
}


def test_every_variant_changes_one_reading_and_is_in_the_docstring_table():
    defaults = dataclasses.asdict(VARIANTS["default"])
    for name, variants in VARIANTS.items():
        changed = {key for key, value in dataclasses.asdict(variants).items() if value != defaults[key]}
        assert len(changed) == (0 if name == "default" else 1), name
        assert name == "default" or f"``{name}``" in wetest_emulator.__doc__, name
    assert set(PROBES) == set(VARIANTS) - {"default"}


@pytest.mark.parametrize("variant", sorted(PROBES))
def test_each_variant_serves_its_reading_and_the_default_the_other(variant):
    probe, default, read = PROBES[variant]
    for name, expected in (("default", default), (variant, read)):
        with serving(name) as wetest:
            assert probe(wetest) == expected, name


@pytest.mark.parametrize("variant", ["details-only-when-asked", "resign-ios-only", "scenarios-game-loop-only"])
def test_the_sandbox_serves_each_new_variant(variant):
    """``labform sandbox --variant wetest=NAME`` starts it, reading the doc as the variant does."""
    probe, _, read = PROBES[variant]
    with Sandbox(["wetest"], None, tuning=Tuning(variants={"wetest": variant})) as sandbox:
        server = sandbox.servers["wetest"]
        auth = (SANDBOX_SECRET_ID, SANDBOX_SECRET_KEY)
        with httpx.Client(base_url=server.url, auth=auth, timeout=10) as client:
            assert probe(WeTest(server.app, client)) == read
