"""The kyaraben emulator over real HTTP: every documented endpoint is routed, the doc's
example requests get the doc's statuses and keys, and auth, the 404 security rule,
async statuses, quota, commands, doc variants and faults behave as the doc says."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from labform.providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer, tiny_png
from labform.providers.kyaraben.emulator import VARIANTS, build_app
from tests.apps import build_apk, text_manifest
from tests.emulators.endpoint_rows import EndpointRow, rows_for
from tests.emulators.example_keys import ExampleKeys, count

JOB = 100.0
ROWS = rows_for("kyaraben")
EXAMPLES = json.loads((Path(__file__).with_name("kyaraben_examples.json")).read_text())
DOC_USER = EXAMPLES["user"]
DSL = 'Feature: "Best feature ever"\n   Scenario: "Best scenario ever"\n      Take a screenshot\n   End\nEnd\n'
TEST_APK = (
    b'<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="com.labform.sample.test">'
    b'<instrumentation android:name="android.test.InstrumentationTestRunner" android:targetPackage="com.labform.sample"/></manifest>'
)


class Kyaraben:
    """A served emulator and a client speaking as one user (``as_user`` for another)."""

    def __init__(self, app: EmulatorApp, url: str, user: str = DOC_USER):
        self.app = app
        self.url = url
        self.client = httpx.Client(base_url=url, headers={"X-Auth-UserId": user}, timeout=10)

    def as_user(self, user: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-Auth-UserId": user}, timeout=10)

    def advance(self, jobs: float = 1.0) -> None:
        self.app.clock.advance(jobs * JOB)

    def ok(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else None

    # --- making things through the API -----------------------------------------------
    def project(self, name: str = "lab") -> str:
        return self.ok("POST", "/projects", 201, json={"project_name": name})["project_id"]

    def apk(self, project: str, manifest: bytes | None = None, name: str = "app.apk") -> str:
        content = build_apk(manifest or text_manifest("com.labform.sample"))
        return self.ok("POST", f"/projects/{project}/apk", 201, files={"file": (name, content)})["apk_id"]

    def vm(self, project: str, image: str = "kitkat-tablet", **body: Any) -> str:
        return self.ok("POST", "/android", 201, json={"project_id": project, "image": image, **body})["avm_id"]

    def testsource(self, project: str, text: str = DSL, name: str = "test.aic") -> str:
        return self.ok("POST", f"/projects/{project}/testsources", 201, files={"file": (name, text.encode())})[
            "testsource_id"
        ]

    def compile(self, project: str, testsource: str) -> str:
        return self.ok("POST", f"/projects/{project}/testsources/{testsource}/apk", 202)["apk_id"]

    def campaign(
        self, project: str, apks: list[str], tests: int = 1, image: str = "lollipop-phone", hwconfig: dict | None = None
    ) -> str:
        test = {
            "image": image,
            "apks": apks,
            "packages": ["com.labform.sample"],
            **({"hwconfig": hwconfig} if hwconfig else {}),
        }
        body = {"campaign_name": "c", "tests": [test] * tests}
        return self.ok("POST", f"/projects/{project}/campaigns", 202, json=body)["campaign_id"]

    def vm_status(self, avm: str) -> dict[str, Any]:
        return self.ok("GET", f"/android/{avm}", 200)["avm"]


@pytest.fixture
def serve() -> Iterator[Callable[..., Kyaraben]]:
    started: list[tuple[EmulatorServer, Kyaraben]] = []

    def start(variant: str = "default", **options: Any) -> Kyaraben:
        options.setdefault("clock", Clock(speed=0))
        options.setdefault("job_duration", JOB)
        options.setdefault("retry_after", 0)
        app = build_app(EmulatorOptions(**options), variant)
        server = EmulatorServer(app).start()
        running = Kyaraben(app, server.url)
        started.append((server, running))
        return running

    yield start
    for server, running in started:
        running.client.close()
        server.stop()


@pytest.fixture
def kyaraben(serve) -> Kyaraben:
    return serve()


# ---------------------------------------------------------------- a world with one of everything


def seed_world(k: Kyaraben) -> dict[str, str]:
    """One of everything, made through the API, READY, with the ids the endpoint paths need."""
    project = k.project()
    apk = k.apk(project)
    camera = k.ok("POST", f"/projects/{project}/camera", 201, files={"file": ("logo.png", tiny_png(1))})[
        "camera_file_id"
    ]
    testsource = k.testsource(project)
    avm = k.vm(project)
    k.advance()
    k.compile(project, testsource)
    command = k.ok("POST", f"/android/{avm}/apk/{apk}", 202)["command_id"]
    campaign = k.campaign(project, [apk])
    k.advance(2)
    return {
        "project_id": project,
        "apk_id": apk,
        "camera_file_id": camera,
        "testsource_id": testsource,
        "avm_id": avm,
        "command_id": command,
        "campaign_id": campaign,
    }


def row_arguments(row: EndpointRow, ids: dict[str, str]) -> dict[str, Any]:
    """What a well-formed request to ``row`` sends besides its path."""
    files = {"file": ("again.apk", build_apk())}
    arguments: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/android"): {"json": {"project_id": ids["project_id"], "image": "kitkat-phone"}},
        ("POST", "/android/{avm_id}/monkey"): {"json": {"packages": ["com.labform.sample"], "event_count": 10}},
        ("POST", "/android/{avm_id}/testrun"): {"json": {"package": "com.labform.sample"}},
        ("PUT", "/android/{avm_id}"): {"json": {"avm_name": "totoro"}},
        ("POST", "/projects"): {"json": {"project_name": "another"}},
        ("PUT", "/projects/{project_id}"): {"json": {"project_name": "renamed"}},
        ("POST", "/projects/{project_id}/apk"): {"files": files},
        ("POST", "/projects/{project_id}/camera"): {"files": {"file": ("logo.png", tiny_png(2))}},
        ("POST", "/projects/{project_id}/testsources"): {"files": {"file": ("more.aic", DSL.encode())}},
        ("PUT", "/projects/{project_id}/testsources/{testsource_id}"): {"files": {"file": ("test.aic", DSL.encode())}},
        ("POST", "/projects/{project_id}/campaigns"): {
            "json": {"tests": [{"image": "kitkat-tablet", "apks": [ids["apk_id"]]}]}
        },
    }
    return arguments.get((row.method, row.path), {})


@pytest.fixture(scope="module")
def shared() -> Iterator[Kyaraben]:
    app = build_app(EmulatorOptions(clock=Clock(speed=0), job_duration=JOB))
    with EmulatorServer(app) as server:
        yield Kyaraben(app, server.url)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.method} {r.path}" for r in ROWS])
def test_every_documented_endpoint_is_routed(shared: Kyaraben, row: EndpointRow) -> None:
    """Each documented endpoint, asked well after a world was seeded, answers neither 404 nor 405."""
    ids = seed_world(shared)
    if row.method == "DELETE" and row.path == "/projects/{project_id}":
        ids["project_id"] = shared.project("empty")  # the doc forbids deleting a project with VMs
    response = shared.client.request(row.method, row.filled(ids), **row_arguments(row, ids))
    assert response.status_code not in (404, 405), response.text
    assert response.status_code < 400, response.text


def test_the_endpoint_list_has_all_39_documented_kyaraben_rows() -> None:
    assert len(ROWS) == 39


# ---------------------------------------------------------------- the doc's own examples

ID = re.compile(r"[0-9a-f]{32}")
# Where an id sits in a request path says what it names.
PATH_KINDS = {
    "android": "avm",
    "projects": "project",
    "apk": "apk",
    "command": "command",
    "camera": "camera",
    "campaigns": "campaign",
    "testsources": "testsource",
}
# The hwconfig of the doc's GET /android/{avm_id} example (all ten keys).
DOC_HWCONFIG = next(e for e in EXAMPLES["examples"] if e["endpoint"] == "GET /android/{avm_id}")["response"]["avm"][
    "hwconfig"
]
# The hwconfig the doc's POST /android example gives: the VMs and campaign tests standing for its ids are made
# with it, so what an answer shows beyond it is the emulator's own.
GIVEN_HWCONFIG = next(e for e in EXAMPLES["examples"] if e["endpoint"] == "POST /android")["json"]["hwconfig"]
# The doc's project holding the apks, camera files and test sources its examples share.
HOME = "722de0eeb70011e69093fa163e5f2779"


class DocWorld:
    """The doc's ids, each standing for an object made on first mention, as the examples relate them.
    Every list an example shows has something in it: each project holds one of every kind the doc
    lists in a project, each VM has an apk installed, and a VM is live before the first example."""

    def __init__(self, k: Kyaraben):
        self.k = k
        self.ids: dict[str, str] = {}
        self.home = self.stocked_project("home")
        self.vm()

    def stocked_project(self, name: str) -> str:
        k = self.k
        project = k.project(name)
        k.ok("POST", f"/projects/{project}/camera", 201, files={"file": ("stock.png", tiny_png(5))})
        k.testsource(project)
        k.campaign(project, [k.apk(project, TEST_APK)], hwconfig=GIVEN_HWCONFIG)
        return project

    def vm(self) -> str:
        k = self.k
        avm = k.vm(self.home, hwconfig=GIVEN_HWCONFIG)
        for apk in (k.apk(self.home), k.apk(self.home, TEST_APK, "tests.apk")):
            k.ok("POST", f"/android/{avm}/apk/{apk}", 202)
        return avm

    def object_for(self, kind: str, doc_id: str, project: str | None = None, avm: str | None = None) -> str:
        if doc_id in self.ids:
            return self.ids[doc_id]
        k, project = self.k, project or self.home
        made = {
            "project": lambda: self.home if doc_id == HOME else self.stocked_project(doc_id[:8]),
            "avm": self.vm,
            "apk": lambda: k.apk(project),
            "camera": lambda: k.ok(
                "POST", f"/projects/{project}/camera", 201, files={"file": ("logo.png", tiny_png(3))}
            )["camera_file_id"],
            "testsource": lambda: k.testsource(project),
            "campaign": lambda: k.campaign(project, [k.apk(project, TEST_APK)], hwconfig=GIVEN_HWCONFIG),
            "command": lambda: k.ok("POST", f"/android/{avm}/apk/{k.apk(self.home)}", 202)["command_id"],
        }[kind]()
        self.ids[doc_id] = made
        k.advance(2)
        return made

    def path(self, doc_path: str) -> str:
        """The path with each doc id replaced, and the project it names (a body may name its apks)."""
        parts, kind, found = doc_path.split("/"), None, {}
        for index, part in enumerate(parts):
            if ID.fullmatch(part):
                parts[index] = found[kind] = self.object_for(kind, part, found.get("project"), found.get("avm"))
            else:
                kind = PATH_KINDS.get(part, kind)
        return "/".join(parts), found.get("project")

    def body(self, body: Any, project: str | None) -> Any:
        if isinstance(body, dict):
            return {
                key: (self.object_for("project", value) if key == "project_id" else self.body(value, project))
                for key, value in body.items()
            }
        if isinstance(body, list):
            return [self.body(item, project) for item in body]
        if isinstance(body, str) and ID.fullmatch(body):
            return self.object_for("apk", body, project)
        return body


def upload_part(name: str) -> tuple[str, bytes]:
    if name.endswith(".apk"):
        return name, build_apk(text_manifest("com.uberspot.a2048"))
    if name.endswith(".png"):
        return name, tiny_png(4)
    return name, DSL.encode()


def replayed(kyaraben: Kyaraben) -> Iterator[tuple[dict[str, Any], httpx.Response]]:
    """Every example of the doc (but any the examples file marks ``left_out``), replayed in its
    order against objects standing for its ids, with the emulator's answer."""
    world = DocWorld(kyaraben)
    for example in (e for e in EXAMPLES["examples"] if "left_out" not in e):
        path, project = world.path(example["path"])
        kwargs: dict[str, Any] = {}
        if "json" in example:
            kwargs["json"] = world.body(example["json"], project)
        if "form" in example:
            kwargs["data"] = example["form"]
        if "files" in example:
            kwargs["files"] = {field: upload_part(name) for field, name in example["files"].items()}
        client = kyaraben.client if example.get("session", True) else httpx.Client(base_url=kyaraben.url)
        yield example, client.request(example["method"], path, **kwargs)
        kyaraben.advance(2)


def test_the_docs_example_requests_get_the_docs_statuses(kyaraben: Kyaraben, capsys) -> None:
    problems, count = [], 0
    left_out = [
        f"line {e['doc_line']} {e['endpoint']} ({e['left_out']})" for e in EXAMPLES["examples"] if "left_out" in e
    ]
    for example, response in replayed(kyaraben):
        count += 1
        where = f"line {example['doc_line']} {example['endpoint']}"
        if response.status_code != example["status"]:
            problems.append(f"{where}: status {response.status_code} != {example['status']}: {response.text[:200]}")
        elif "response_text" in example:
            assert response.headers["content-type"].startswith("text/plain"), where
    with capsys.disabled():
        print(
            f"\nkyaraben doc examples: {count} replayed of {len(EXAMPLES['examples'])}; left out: {', '.join(left_out) or 'none'}"
        )
    assert problems == []
    assert count + len(left_out) == len(EXAMPLES["examples"])


# The objects of an example whose keys are data, not schema (each doc line's), each with why.
OPEN_MAPS: dict[int, dict[str, str]] = {
    239: {
        "properties.*": 'the doc elides the properties with a "...": "..." member; the names are the VM\'s Android properties'
    },
    287: {"packages.*": "its members are named after the test packages installed on the VM"},
}


def test_the_docs_examples_answers_have_the_docs_keys(kyaraben: Kyaraben, capsys) -> None:
    """Each example's answer against that example's keys, both ways, nested objects and every list
    item too (tests/emulators/example_keys.py); a list the answer leaves empty leaves its keys unseen."""
    problems = []
    for example, response in replayed(kyaraben):
        if "response" in example and response.status_code == example["status"]:
            keys = ExampleKeys(example["response"], conditional=OPEN_MAPS.get(example["doc_line"], {}))
            where = f"line {example['doc_line']} {example['endpoint']}"
            problems += [f"{problem} ({where})" for problem in keys.check(response.json()) + keys.unseen()]
    with capsys.disabled():
        print(f"\nkyaraben example keys: {count(problems)}")
        print("\n".join(problems))
    assert problems == []


def test_the_examples_file_notes_each_fix_of_the_docs_json() -> None:
    fixed = {e["doc_line"]: e["fix"] for e in EXAMPLES["examples"] if "fix" in e}
    assert sorted(fixed) == [239, 642, 892]


# ---------------------------------------------------------------- auth and the 404 security rule


@pytest.mark.parametrize("path", ["/user/whoami", "/projects", "/android", "/projects/x/apk"])
def test_without_the_user_header_every_endpoint_answers_the_docs_401(kyaraben: Kyaraben, path: str) -> None:
    response = httpx.get(kyaraben.url + path)
    assert response.status_code == 401
    assert response.json() == {"error": "Missing authentication header"}


def test_the_images_answer_without_a_user_header_but_in_the_strict_variant(serve) -> None:
    """GET /images names no user's object (its header line is a VM endpoint's, copied)."""
    anonymous = httpx.get(serve().url + "/images")
    assert anonymous.status_code == 200
    assert [i["image"] for i in anonymous.json()["images"]] == [
        "kitkat-tablet",
        "kitkat-phone",
        "lollipop-tablet",
        "lollipop-phone",
    ]
    strict = serve("images-need-user")
    assert httpx.get(strict.url + "/images").json() == {"error": "Missing authentication header"}
    assert strict.client.get("/images").status_code == 200


def test_another_users_objects_are_404_and_an_unknown_user_owns_nothing(kyaraben: Kyaraben) -> None:
    """The doc: 404 even when the object exists but belongs to someone else."""
    ids = seed_world(kyaraben)
    other = kyaraben.as_user("someone-else")
    for path in (
        f"/projects/{ids['project_id']}",
        f"/projects/{ids['project_id']}/apk",
        f"/android/{ids['avm_id']}",
        f"/android/{ids['avm_id']}/apk",
    ):
        assert other.get(path).status_code == 404, path
    assert other.delete(f"/android/{ids['avm_id']}").status_code == 404
    assert other.post("/android", json={"project_id": ids["project_id"], "image": "kitkat-tablet"}).status_code == 404
    assert other.get("/projects").json() == {"projects": []}
    assert other.get("/android").json() == {"avms": []}
    assert kyaraben.vm_status(ids["avm_id"])["status"] == "READY"


# ---------------------------------------------------------------- asynchronous statuses on the clock


def test_a_project_goes_queued_creating_ready_as_the_clock_moves(kyaraben: Kyaraben) -> None:
    project = kyaraben.project()
    seen = []
    for _ in range(3):
        seen.append(kyaraben.ok("GET", f"/projects/{project}", 200)["project"]["status"])
        kyaraben.advance(0.1)
    assert seen == ["QUEUED", "CREATING", "READY"]


def test_a_vm_boots_and_its_delete_ends_in_404(kyaraben: Kyaraben) -> None:
    project = kyaraben.project()
    avm = kyaraben.vm(project, avm_name="first vm")
    assert kyaraben.vm_status(avm)["status"] == "QUEUED"
    kyaraben.advance(0.15)
    assert kyaraben.vm_status(avm)["status"] == "CREATING"
    kyaraben.advance(0.2)
    assert kyaraben.vm_status(avm)["avm_name"] == "first vm" and kyaraben.vm_status(avm)["status"] == "READY"
    assert kyaraben.client.delete(f"/android/{avm}").status_code == 202
    assert kyaraben.vm_status(avm)["status"] == "DELETING"
    kyaraben.advance(0.2)
    assert kyaraben.client.get(f"/android/{avm}").status_code == 404
    assert kyaraben.ok("GET", "/android", 200) == {"avms": []}


def test_an_unnamed_vm_is_named_after_its_id(kyaraben: Kyaraben) -> None:
    avm = kyaraben.vm(kyaraben.project())
    assert kyaraben.vm_status(avm)["avm_name"] == avm[:8]


# ---------------------------------------------------------------- quota


def test_over_the_live_quota_a_vm_is_in_error_and_rescheduled_until_a_slot_frees(kyaraben: Kyaraben) -> None:
    """The doc: an over-quota creation leaves the AVM in ERROR and is retried; it is not a 4xx."""
    project = kyaraben.project()
    vms = [kyaraben.vm(project) for _ in range(4)]
    kyaraben.advance()
    assert [kyaraben.vm_status(v)["status"] for v in vms] == ["READY", "READY", "READY", "ERROR"]
    assert "Quota exceeded" in kyaraben.vm_status(vms[3])["status_reason"]
    assert kyaraben.ok("GET", "/user/quota", 200)["quota"] == {
        "vm_async_current": 0,
        "vm_async_max": 3,
        "vm_live_current": 3,
        "vm_live_max": 3,
    }
    kyaraben.client.delete(f"/android/{vms[0]}")
    kyaraben.advance()
    assert kyaraben.vm_status(vms[3])["status"] == "READY"
    assert kyaraben.vm_status(vms[3])["status_reason"] == ""


def test_campaign_tests_beyond_the_campaign_quota_wait_queued(kyaraben: Kyaraben) -> None:
    project = kyaraben.project()
    tests = kyaraben.apk(project, TEST_APK)
    kyaraben.advance()
    campaign = kyaraben.campaign(project, [tests], tests=4)
    kyaraben.advance(0.5)
    detail = kyaraben.ok("GET", f"/projects/{project}/campaigns/{campaign}", 200)["campaign"]
    assert [t["status"] for t in detail["tests"]] == ["RUNNING", "RUNNING", "RUNNING", "QUEUED"]
    assert kyaraben.ok("GET", "/user/quota", 200)["quota"]["vm_async_current"] == 3
    kyaraben.advance(3)
    detail = kyaraben.ok("GET", f"/projects/{project}/campaigns/{campaign}", 200)["campaign"]
    assert (detail["campaign_status"], detail["progress"]) == ("READY", 1.0)
    assert all(t["stdout"].endswith("OK (1 test)\nINSTRUMENTATION_CODE: -1") for t in detail["tests"])


def test_campaign_failures_follow_the_seed_and_failure_share(serve) -> None:
    kyaraben = serve(failure_share=0.5)
    project = kyaraben.project()
    tests = kyaraben.apk(project, TEST_APK)
    kyaraben.advance()
    campaign = kyaraben.campaign(project, [tests], tests=2)
    kyaraben.advance(3)
    statuses = [
        t["status"] for t in kyaraben.ok("GET", f"/projects/{project}/campaigns/{campaign}", 200)["campaign"]["tests"]
    ]
    assert sorted(statuses) == ["ERROR", "READY"]


def test_a_test_without_an_instrumented_package_ends_in_error_saying_so(kyaraben: Kyaraben) -> None:
    project = kyaraben.project()
    app = kyaraben.apk(project)
    campaign = kyaraben.campaign(project, [app])
    kyaraben.advance(3)
    test = kyaraben.ok("GET", f"/projects/{project}/campaigns/{campaign}", 200)["campaign"]["tests"][0]
    assert (test["status"], test["stdout"]) == (
        "ERROR",
        "INSTRUMENTATION_FAILED: no instrumented test package among the apks",
    )


# ---------------------------------------------------------------- uploads, compilation, commands


def test_an_apk_is_read_for_its_package_and_an_unreadable_one_ends_in_error(kyaraben: Kyaraben) -> None:
    project = kyaraben.project()
    good = kyaraben.apk(project)
    bad = kyaraben.ok("POST", f"/projects/{project}/apk", 201, files={"file": ("broken.apk", b"not a zip")})["apk_id"]
    assert kyaraben.ok("GET", f"/projects/{project}/apk/{good}", 200)["apk"]["status"] == "QUEUED"
    kyaraben.advance()
    assert kyaraben.ok("GET", f"/projects/{project}/apk/{good}", 200)["apk"]["package"] == "com.labform.sample"
    broken = kyaraben.ok("GET", f"/projects/{project}/apk/{bad}", 200)["apk"]
    assert broken["status"] == "ERROR" and "AndroidManifest.xml" in broken["status_reason"]


def test_a_test_source_compiles_to_a_test_apk_and_new_content_clears_it(kyaraben: Kyaraben) -> None:
    project = kyaraben.project()
    source = kyaraben.testsource(project)
    apk = kyaraben.compile(project, source)
    seen = []
    for _ in range(4):
        seen.append(
            kyaraben.ok("GET", f"/projects/{project}/testsources/{source}/metadata", 200)["testsource"]["apk_status"]
        )
        kyaraben.advance(0.06)
    assert seen == ["QUEUED", "COMPILING DSL", "COMPILING JAVA", "COMPILING JAVA"]
    kyaraben.advance()
    assert kyaraben.ok("GET", f"/projects/{project}/apk/{apk}", 200)["apk"]["status"] == "READY"
    assert kyaraben.client.get(f"/projects/{project}/testsources/{source}").text == DSL
    put = kyaraben.client.put(
        f"/projects/{project}/testsources/{source}", files={"file": ("renamed.aic", b"no feature here")}
    )
    assert put.status_code == 204
    metadata = kyaraben.ok("GET", f"/projects/{project}/testsources/{source}/metadata", 200)["testsource"]
    assert (metadata["filename"], metadata["apk_id"]) == ("renamed.aic", "")
    failed = kyaraben.compile(project, source)
    kyaraben.advance()
    metadata = kyaraben.ok("GET", f"/projects/{project}/testsources/{source}/metadata", 200)["testsource"]
    assert (metadata["apk_id"], metadata["apk_status"]) == (failed, "ERROR")
    assert metadata["apk_status_reason"].startswith("COMPILING DSL")


def test_an_install_waits_for_its_vm_then_reports_adbs_answer(kyaraben: Kyaraben) -> None:
    project = kyaraben.project()
    app, tests = kyaraben.apk(project), kyaraben.apk(project, TEST_APK, "tests.apk")
    avm = kyaraben.vm(project)
    command = kyaraben.ok("POST", f"/android/{avm}/apk/{app}", 202)["command_id"]
    assert kyaraben.ok("GET", f"/android/{avm}/command/{command}", 200)["results"][0]["status"] == "QUEUED"
    kyaraben.ok("POST", f"/android/{avm}/apk/{tests}", 202)
    kyaraben.advance()
    result = kyaraben.ok("GET", f"/android/{avm}/command/{command}", 200)["results"][0]
    assert (result["status"], result["returncode"]) == ("READY", "0") and result["stdout"].endswith("Success")
    assert kyaraben.ok("GET", f"/android/{avm}/apk", 200) == {
        "packages": ["com.labform.sample", "com.labform.sample.test"]
    }
    runner = "com.labform.sample.test/android.test.InstrumentationTestRunner"
    assert kyaraben.ok("GET", f"/android/{avm}/testrun", 200) == {"packages": {runner: "com.labform.sample.test"}}
    run = kyaraben.ok("POST", f"/android/{avm}/testrun", 202, json={"package": "com.labform.sample.test"})["command_id"]
    kyaraben.advance()
    assert "OK (1 test)" in kyaraben.ok("GET", f"/android/{avm}/command/{run}", 200)["results"][0]["stdout"]
    assert re.fullmatch(r"\d{6}", kyaraben.ok("GET", f"/android/{avm}/totp", 200)["totp"])


def test_create_vm_without_project_or_image_is_400_with_the_schema(kyaraben: Kyaraben) -> None:
    response = kyaraben.client.post("/android", json={"image": "kitkat-tablet"})
    assert response.status_code == 400
    assert response.json()["schema"]["required"] == ["project_id", "image"]


# ---------------------------------------------------------------- doc variants


def test_a_project_with_a_vm_cannot_be_deleted_and_the_refusal_follows_the_variant(serve) -> None:
    for variant, status in (("default", 409), ("delete-refused-400", 400), ("delete-refused-async", 202)):
        kyaraben = serve(variant)
        project = kyaraben.project()
        kyaraben.vm(project)
        kyaraben.advance()
        response = kyaraben.client.delete(f"/projects/{project}")
        assert response.status_code == status, variant
        detail = kyaraben.ok("GET", f"/projects/{project}", 200)["project"]
        assert detail["status"] == ("ERROR" if status == 202 else "READY")
        if status == 202:
            assert detail["status_reason"].startswith("project contains running vms")


def test_finished_campaigns_block_a_project_delete_only_in_that_variant(serve) -> None:
    for variant, status in (("default", 202), ("any-campaign-blocks-delete", 409)):
        kyaraben = serve(variant)
        project = kyaraben.project()
        kyaraben.campaign(project, [kyaraben.apk(project, TEST_APK)])
        kyaraben.advance(3)
        assert kyaraben.client.delete(f"/projects/{project}").status_code == status, variant


@pytest.mark.parametrize(
    "variant, path_status, heading_status",
    [("default", 204, 204), ("rename-vm-path-only", 204, 405), ("rename-vm-heading-only", 405, 204)],
)
def test_vm_rename_paths_follow_the_variant(serve, variant, path_status, heading_status) -> None:
    kyaraben = serve(variant)
    avm = kyaraben.vm(kyaraben.project())
    assert kyaraben.client.put(f"/android/{avm}", json={"avm_name": "totoro"}).status_code == path_status
    assert kyaraben.client.put("/android", json={"avm_id": avm, "avm_name": "satsuki"}).status_code == heading_status
    assert kyaraben.vm_status(avm)["avm_name"] == ("satsuki" if heading_status == 204 else "totoro")


@pytest.mark.parametrize(
    "variant, key, status",
    [
        ("default", "avm_name", 204),
        ("rename-project-name-only", "avm_name", 400),
        ("rename-project-avm-name-only", "project_name", 400),
    ],
)
def test_the_project_rename_key_follows_the_variant(serve, variant, key, status) -> None:
    kyaraben = serve(variant)
    project = kyaraben.project()
    assert kyaraben.client.put(f"/projects/{project}", json={key: "qwerty"}).status_code == status


def test_deleted_objects_stay_listed_in_that_variant(serve) -> None:
    kyaraben = serve("deleted-stay-listed")
    project = kyaraben.project()
    avm = kyaraben.vm(project)
    kyaraben.client.delete(f"/android/{avm}")
    kyaraben.advance()
    assert kyaraben.vm_status(avm)["status"] == "DELETED"
    assert [v["status"] for v in kyaraben.ok("GET", "/android", 200)["avms"]] == ["DELETED"]


def test_hwconfig_is_shown_filled_or_as_given_and_unknown_keys_ignored_or_refused(serve) -> None:
    """Filled: all ten keys of the doc's example, those not given at the example's values."""
    for variant in ("default", "hwconfig-as-given", "strict-hwconfig"):
        kyaraben = serve(variant)
        project = kyaraben.project()
        avm = kyaraben.vm(project, hwconfig={"width": 800, "height": 600})
        shown = kyaraben.vm_status(avm)["hwconfig"]
        assert shown == (
            {"width": 800, "height": 600}
            if variant == "hwconfig-as-given"
            else {**DOC_HWCONFIG, "width": 800, "height": 600}
        )
        unknown = kyaraben.client.post(
            "/android", json={"project_id": project, "image": "kitkat-tablet", "hwconfig": {"widht": 800}}
        )
        assert unknown.status_code == (400 if variant == "strict-hwconfig" else 201), variant


def test_a_failed_campaign_is_ready_or_error_as_the_variant_reads_the_doc(serve) -> None:
    for variant, status in (("default", "READY"), ("failed-campaign-error", "ERROR")):
        kyaraben = serve(variant)
        project = kyaraben.project()
        campaign = kyaraben.campaign(project, [kyaraben.apk(project)])
        kyaraben.advance(3)
        assert (
            kyaraben.ok("GET", f"/projects/{project}/campaigns/{campaign}", 200)["campaign"]["campaign_status"]
            == status
        )


def test_every_variant_is_named_and_starts() -> None:
    assert len(VARIANTS) == 13
    for name in VARIANTS:
        assert build_app(EmulatorOptions(), name).name == "kyaraben"


# ---------------------------------------------------------------- faults


def test_injected_faults_use_the_docs_error_object_and_retry_after(serve) -> None:
    kyaraben = serve(failure_rate=1.0, failure_kinds=("429",), retry_after=3)
    response = kyaraben.client.get("/projects")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert response.json() == {"error": "injected fault"}
    assert kyaraben.app.log.matching("GET", "/projects")[0].status == 429


def test_latency_slows_every_answer(serve) -> None:
    kyaraben = serve(latency=0.2)
    started = time.monotonic()
    assert kyaraben.client.get("/images").status_code == 200
    assert time.monotonic() - started >= 0.2
