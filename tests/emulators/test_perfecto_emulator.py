"""The Perfecto Smart Reporting emulator over real HTTP: coverage, the doc's examples replayed, paging, filters, processing, variants."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from labform.providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer
from labform.providers.emulation.sandbox import Sandbox, Tuning
from labform.providers.perfecto.emulator import (
    EXECUTIONS,
    SANDBOX_JOB,
    SANDBOX_TOKEN,
    add_commands,
    add_executions,
    build_app,
    seed_executions,
)
from labform.providers.perfecto.emulator.executions import virtual_ms
from tests.emulators.endpoint_rows import rows_for
from tests.emulators.example_keys import ExampleKeys, count, unseen

EXAMPLES = json.loads((Path(__file__).with_name("perfecto_examples.json")).read_text())
TOKEN = {"Perfecto-Authorization": SANDBOX_TOKEN}


@contextmanager
def serving(variant: str = "default", **options) -> Iterator[tuple[EmulatorApp, httpx.Client]]:
    app = build_app(
        EmulatorOptions(**{"clock": Clock(speed=0), "retry_after": 0, "job_duration": 0, **options}), variant
    )
    with EmulatorServer(app) as server, httpx.Client(base_url=server.url, headers=TOKEN, timeout=10) as client:
        yield app, client


@pytest.fixture
def emulator() -> Iterator[tuple[EmulatorApp, httpx.Client]]:
    with serving() as pair:
        yield pair


def report(client: httpx.Client, *params: tuple[str, object]) -> dict:
    response = client.get(EXECUTIONS, params=[(k, str(v)) for k, v in params])
    assert response.status_code == 200, response.text
    return response.json()


def ids(body: dict) -> set[str]:
    return {r["id"] for r in body["resources"]}


# ---------------------------------------------------------------- coverage and the doc's examples


@pytest.mark.parametrize("row", rows_for("perfecto"), ids=lambda row: f"{row.method} {row.path}")
def test_every_documented_endpoint_is_routed(emulator, row):
    """Each endpoints.tsv row answers a well-formed request with 200 and the doc's envelope."""
    app, client = emulator
    test_id = report(client)["resources"][0]["id"]
    response = client.request(row.method, row.filled({"TEST_ID": test_id}))
    assert response.status_code == 200
    assert set(response.json()) == {"resources", "metadata"}


def _fields(where: str, *keys: str) -> tuple[str, ...]:
    return tuple(f"{where}.{key}" for key in keys)


PLATFORM = "resources[].platforms[]"
COMMAND = "resources[].commands[]"
# The schemas the doc gives after each example (lines 292 and 385), as key paths; metadata has none.
EXECUTION_TABLE = (
    *_fields("resources[]", "id", "externalId", "name", "owner", "startTime", "endTime", "uxDuration", "status"),
    *_fields("resources[].job", "name", "number", "branch"),
    *_fields(PLATFORM, "deviceId", "deviceType", "os", "osVersion", "screenResolution", "location"),
    *_fields(f"{PLATFORM}.mobileInfo", "imei", "imsi", "manufacturer", "model", "phoneNumber", "distributor"),
    *_fields(f"{PLATFORM}.mobileInfo", "description", "firmware", "operator", "operatorCountry", "hasAudio"),
    *_fields(f"{PLATFORM}.browserInfo", "browserType", "browserVersion"),
    *_fields(PLATFORM, "alias", "selectionCriteria"),
    *_fields(f"{PLATFORM}.selectionCriteriaV2[]", "name", "value"),
    *_fields(f"{PLATFORM}.customFields[]", "name", "value"),
    *_fields("resources[].videos[]", "startTime", "endTime", "videoFormat", "downloadUrl"),
    *_fields("resources[].videos[].screen", "width", "height"),
    *_fields("resources[]", "tags", "reportURL", "message", "failureReasonName", "automationFramework"),
    "resources[].executionEngine.version",
    *_fields("resources[].artifacts[]", "type", "path", "contentType", "fileName", "zipped"),
    *_fields("resources[].project", "name", "version"),
    *_fields("resources[].customFields[]", "name", "value"),
    *_fields("resources[].parameters[]", "name", "value"),
)
COMMANDS_TABLE = (
    *_fields(COMMAND, "name", "status", "message", "startTime", "endTime", "uxDuration", "screenshots"),
    *_fields(f"{COMMAND}.expectedData[]", "type", "value"),
    *_fields(f"{COMMAND}.resultData[]", "type", "value"),
    f"{COMMAND}.expectedImages[].imagePath",
    *_fields(f"{COMMAND}.parameters[]", "name", "value", "attributes"),
    *_fields("resources[]", "testExecutionId", "name", "startTime", "endTime"),
)
# Keys the doc shows on some objects only, and the keys of a map whose keys are data.
EXECUTION_CONDITIONAL = {
    "resources[].job": "a test run outside CI has none (the example's first resource, 166-219)",
    "resources[].project": "the example's first resource has none (166-219)",
    "resources[].triggerType": "the example's second resource has none (220-279)",
    "resources[].message": "a message of the test stop command: the emulator's failed and blocked tests (292)",
    "resources[].failureReasonName": "a failed or blocked test's failure reason (292)",
    f"{PLATFORM}.mobileInfo": "MOBILE & SIMULATOR devices only (292)",
    f"{PLATFORM}.browserInfo": "DESKTOP devices only (292)",
    f"{PLATFORM}.selectionCriteria.*": "the capabilities asked for: each test its own (190-191, 244-252)",
}
# Keys the emulator never writes, each a choice.
EXECUTION_UNPRODUCED = {
    f"{PLATFORM}.browserInfo": "the emulator's devices are all MOBILE; browserInfo is a DESKTOP's (292)",
    f"{PLATFORM}.alias": "a driver name for several executions in one report, which the emulator does not make (292)",
    f"{PLATFORM}.customFields[]": "the emulator's devices have no custom fields ([] as in the example, 192)",
    "resources[].customFields[]": "the seeded tests have none; a test adds them with add_executions (292)",
    "resources[].parameters[]": "the seeded tests have no parameters (292)",
    "resources[].videos[].videoFormat": "the example writes format (198, 259): clients read that spelling",
}
COMMANDS_CONDITIONAL = {
    f"{COMMAND}.{key}": "the example's SUCCESS command has none (312-318)"
    for key in ("message", "screenshots", "expectedData", "resultData")
} | {
    f"{COMMAND}.parameters": "a command with parameters only (385)",
    f"{COMMAND}.parameters[].attributes": "an optional field (385)",
    "resources[].name": "the example's step has none (309-376)",
    "resources[].startTime": "the example's step has none (309-376)",
    "resources[].endTime": "the example's step has none (309-376)",
}
COMMANDS_UNPRODUCED = {
    f"{COMMAND}.expectedImages": "no image analysis command among the emulator's (385)",
    f"{COMMAND}.parameters[].attributes": "no SENSITIVE or HIDDEN parameter among the emulator's (385)",
}


def _example_checks(table: bool = True) -> dict[str, ExampleKeys]:
    """Per endpoint: the example's keys, and the schema's too unless ``table`` is false."""
    report, _, commands = EXAMPLES["replay"]
    return {
        EXECUTIONS: ExampleKeys(
            report["response"],
            table=EXECUTION_TABLE if table else (),
            conditional=EXECUTION_CONDITIONAL,
            unproduced=EXECUTION_UNPRODUCED,
        ),
        "commands": ExampleKeys(
            commands["response"],
            table=COMMANDS_TABLE if table else (),
            conditional=COMMANDS_CONDITIONAL,
            unproduced=COMMANDS_UNPRODUCED,
        ),
    }


def test_the_docs_example_requests_replay_with_the_docs_keys_and_status():
    """Seeded with the doc's example executions and commands, each example request gets the doc's status
    and the keys of its example (the departures listed for the emulator's own answers cover the doc's too)."""
    checks = _example_checks(table=False)
    doc_ids = {e["id"] for e in EXAMPLES["seed"]["executions"]}
    with serving() as (app, client):
        add_executions(app, EXAMPLES["seed"]["executions"], processing=0)
        for test_id, steps in EXAMPLES["seed"]["commands"].items():
            add_commands(app, test_id, steps)
        for example in EXAMPLES["replay"]:
            response = client.request(
                example["method"], example["path"] + (f"?{example['query']}" if example["query"] else "")
            )
            assert response.status_code == example["status"], example["name"]
            body = response.json()
            if example["path"].endswith("/commands"):
                assert checks["commands"].check(body) == [], example["name"]
                continue
            # The doc's own executions, not the sandbox builds served beside them.
            body["resources"] = [r for r in body["resources"] if r["id"] in doc_ids]
            assert checks[EXECUTIONS].check(body) == [], example["name"]
    print(f"replayed {len(EXAMPLES['replay'])} example requests of the doc; left out:")
    for left in EXAMPLES["left_out"]:
        print(f"  - {left['what']}: {left['reason']}")
    assert len(EXAMPLES["replay"]) == 3


def example_key_problems(variant: str) -> list[str]:
    """The emulator's own executions (the sandbox's two builds: processed and processing, a failed test
    among them) and the commands of a passed and a failed test, against the doc's example and schema keys."""
    checks = _example_checks()
    problems: list[str] = []
    with serving(variant, job_duration=600) as (app, client):
        body = report(client)
        problems += checks[EXECUTIONS].check(body)
        failed = next(r["id"] for r in body["resources"] if r["status"] == "FAILED")
        passed = next(r["id"] for r in body["resources"] if r["status"] == "PASSED")
        for test_id in (failed, passed):
            problems += checks["commands"].check(client.get(f"{EXECUTIONS}/{test_id}/commands").json())
    return problems + unseen(checks.values())


def test_every_key_of_the_docs_examples_is_in_the_emulators_own_answers_and_no_other(capsys):
    """Both ways, objects and list items too; what the doc shows on some objects only, or the emulator
    never writes, is listed above with its reason."""
    problems = example_key_problems("default")
    with capsys.disabled():
        print(f"\nperfecto example keys: {count(problems)}")
    assert problems == []


# ---------------------------------------------------------------- the security token


def test_a_request_without_the_token_is_refused_401_with_a_json_message():
    """The doc's samples parse every answer as a JSON object: the refusal is one, with its reason."""
    with serving() as (_, client):
        for headers in ({}, {"Perfecto-Authorization": "wrong"}, {"Authorization": f"Bearer {SANDBOX_TOKEN}"}):
            response = httpx.get(client.base_url.join(EXECUTIONS), headers=headers)
            assert response.status_code == 401 and response.headers["content-type"] == "application/json"
            assert "security token" in response.json()["message"]


# variant -> which of Perfecto-Authorization, PERFECTO_AUTHORIZATION, Authorization: Bearer it accepts, and its refusal
TOKEN_READINGS = {
    "default": ((True, True, False), 401),
    "token-header-dashed-only": ((True, False, False), 401),
    "token-header-underscored-only": ((False, True, False), 401),
    "token-bearer-too": ((True, True, True), 401),
    "token-bearer-only": ((False, False, True), 401),
    "refused-403": ((True, True, False), 403),
}


@pytest.mark.parametrize("variant", sorted(TOKEN_READINGS))
def test_token_variants_accept_their_headers(variant):
    accepted, refused = TOKEN_READINGS[variant]
    sent = (
        {"Perfecto-Authorization": SANDBOX_TOKEN},
        {"PERFECTO_AUTHORIZATION": SANDBOX_TOKEN},
        {"Authorization": f"Bearer {SANDBOX_TOKEN}"},
    )
    with serving(variant) as (_, client):
        url = client.base_url.join(EXECUTIONS)
        for headers, ok in zip(sent, accepted, strict=True):
            response = httpx.get(url, headers=headers)
            assert response.status_code == (200 if ok else refused), (variant, headers)
            assert isinstance(response.json(), dict)


@pytest.mark.parametrize(
    "variant, accepted",
    [
        ("token-header-dashed-only", "Perfecto-Authorization"),
        ("token-header-underscored-only", "PERFECTO_AUTHORIZATION"),
    ],
)
def test_the_sandbox_serves_each_token_header_variant(variant, accepted):
    """``labform sandbox --variant perfecto=NAME`` starts it: there the other spelling is refused."""
    with Sandbox(["perfecto"], None, tuning=Tuning(variants={"perfecto": variant})) as sandbox:
        url = sandbox.servers["perfecto"].url + EXECUTIONS
        for header in ("Perfecto-Authorization", "PERFECTO_AUTHORIZATION"):
            assert httpx.get(url, headers={header: SANDBOX_TOKEN}).status_code == (200 if header == accepted else 401)


def test_the_token_comes_from_options():
    with serving(credentials={"security_token": "ci-token"}) as (_, client):
        assert client.get(EXECUTIONS).status_code == 401
        assert client.get(EXECUTIONS, headers={"Perfecto-Authorization": "ci-token"}).status_code == 200


# ---------------------------------------------------------------- paging


def test_1200_executions_come_in_pages_of_500_while_truncated(emulator):
    app, client = emulator
    seed_executions(app, 1200, job_name="nightly")
    pages = [report(client, ("jobName[0]", "nightly"), ("_page", page)) for page in (1, 2, 3, 4)]
    assert [len(p["resources"]) for p in pages] == [500, 500, 200, 0]
    assert [p["metadata"]["truncated"] for p in pages] == [True, True, False, False]
    assert [p["metadata"]["page"] for p in pages] == [1, 2, 3, 4]
    assert len(set().union(*(ids(p) for p in pages))) == 1200
    assert report(client, ("jobName[0]", "nightly"))["resources"] == pages[0]["resources"]  # _page defaults to 1


def test_first_500_only_variant_serves_no_page_past_the_first():
    with serving("first-500-only") as (app, client):
        seed_executions(app, 700, job_name="nightly")
        pages = [report(client, ("jobName[0]", "nightly"), ("_page", page)) for page in (1, 2)]
        assert [len(p["resources"]) for p in pages] == [500, 0]
        assert [p["metadata"]["truncated"] for p in pages] == [True, True]


@pytest.mark.parametrize("variant, newest_first", [("default", True), ("oldest-first", False)])
def test_executions_are_sorted_by_start_time(variant, newest_first):
    with serving(variant) as (app, client):
        seed_executions(app, 10, job_name="nightly")
        starts = [r["startTime"] for r in report(client, ("jobName[0]", "nightly"))["resources"]]
        assert starts == sorted(starts, reverse=newest_first)


@pytest.mark.parametrize("page", ["abc", "0", "-2"])
def test_a_page_that_is_not_a_whole_number_from_1_reads_as_1(emulator, page):
    app, client = emulator
    assert report(client, ("_page", page))["metadata"]["page"] == 1


# ---------------------------------------------------------------- filters


def test_or_within_a_field_and_across_fields(emulator):
    """The doc's example: failed or blocked, and tagged tag1 or tag2."""
    app, client = emulator
    made = seed_executions(app, 40, job_name="f", failure_share=0.25, blocked_share=0.25, tags=("tag1",))
    made += seed_executions(app, 40, job_name="g", failure_share=0.25, tags=("tag2",))
    made += seed_executions(app, 40, job_name="h", failure_share=0.5, tags=("tag3",))
    found = report(client, ("status[0]", "FAILED"), ("status[1]", "BLOCKED"), ("tags[0]", "tag1"), ("tags[1]", "tag2"))
    expected = {e["id"] for e in made if e["status"] in ("FAILED", "BLOCKED") and e["tags"][0] in ("tag1", "tag2")}
    assert ids(found) == expected and expected


def test_the_x_prefix_excludes(emulator):
    app, client = emulator
    made = seed_executions(app, 12, job_name="x", failure_share=0.5)
    kept = report(client, ("jobName[0]", "x"), ("xstatus[0]", "FAILED"), ("xdeviceModel[0]", "Pixel 7"))
    assert ids(kept) == {
        e["id"] for e in made if e["status"] != "FAILED" and e["platforms"][0]["mobileInfo"]["model"] != "Pixel 7"
    }


def test_every_documented_filter_selects_its_field(emulator):
    """Each filter of the table picks the one execution whose field has the value (doc example resources, job and sandbox builds alongside)."""
    app, client = emulator
    add_executions(app, EXAMPLES["seed"]["executions"], processing=0)
    first, second = EXAMPLES["seed"]["executions"]
    one = [
        ("id[0]", first["id"]),
        ("externalId[0]", first["externalId"]),
        ("executionId[0]", first["externalId"]),
        ("tags[0]", "Native"),
        ("deviceId[0]", first["platforms"][0]["deviceId"]),
        ("deviceModel[0]", "Galaxy S5 SM-G900A"),
        ("screenResolution[0]", "1024x768"),
        ("browserType[0]", "INTERNET_EXPORER"),
        ("browserVersion[0]", "latest (11)"),
        ("jobName[0]", "Sample Job"),
        ("jobNumber[0]", "45"),
        ("projectName[0]", "Sample Script"),
        ("projectVersion[0]", "1.0"),
        ("triggerType[0]", "Manual"),
        ("os[0]", "WINDOWS"),
        ("deviceType[0]", "DESKTOP"),
    ]
    for name, value in one:
        assert len(report(client, (name, value))["resources"]) == 1, name
    assert ids(
        report(client, ("os[0]", "WINDOWS"), ("os[1]", "ANDROID"), ("tags[0]", "Native"), ("tags[1]", first["tags"][0]))
    ) == {first["id"], second["id"]}


def test_custom_fields_failure_reasons_branches_and_unknown_parameters(emulator):
    app, client = emulator
    made = seed_executions(app, 6, job_name="c", job_branch="release/2", failure_share=0.5)
    made[0]["customFields"] = [{"name": "team", "value": "payments"}]
    assert ids(report(client, ("customField.team[0]", "payments"))) == {made[0]["id"]}
    assert ids(report(client, ("jobName[0]", "c"), ("xcustomField.team[0]", "payments"))) == {e["id"] for e in made[1:]}
    assert ids(report(client, ("failureReason[0]", "Element not found"), ("jobName[0]", "c"))) == {
        e["id"] for e in made if e["status"] == "FAILED"
    }
    assert ids(report(client, ("jobBranch[0]", "release/2"))) == {e["id"] for e in made}
    assert ids(report(client, ("jobName", "c"), ("noSuchFilter[0]", "anything"))) == {e["id"] for e in made}


@pytest.mark.parametrize("variant", ["default", "time-as-written"])
def test_the_time_window(variant):
    """Default: startExecutionTime..endExecutionTime bound the start; as written, the comparisons turn round. endExecutionTime alone is ignored."""
    with serving(variant) as (app, client):
        app.clock.advance(10_000)
        made = sorted(seed_executions(app, 10, job_name="t"), key=lambda e: e["startTime"])
        middle = made[3]["startTime"], made[6]["startTime"]
        inside = {e["id"] for e in made[3:7]}
        outside = {e["id"] for e in made[:4] + made[6:]}
        window = report(
            client, ("jobName[0]", "t"), ("startExecutionTime[0]", middle[0]), ("endExecutionTime[0]", middle[1])
        )
        turned = report(
            client, ("jobName[0]", "t"), ("startExecutionTime[0]", middle[1]), ("endExecutionTime[0]", middle[0])
        )
        if variant == "default":
            assert ids(window) == inside and ids(turned) == set()
        else:
            assert ids(window) == set() and ids(turned) == {e["id"] for e in made[3:7]} and outside
        assert len(report(client, ("jobName[0]", "t"), ("endExecutionTime[0]", middle[0]))["resources"]) == 10


# ---------------------------------------------------------------- processing, commands


def test_processing_completes_on_the_clock_and_artifacts_appear_then(emulator):
    app, client = emulator
    seed_executions(app, 3, job_name="p", processing=30)
    body = report(client, ("jobName[0]", "p"))
    assert body["metadata"]["processingStatus"] == "PROCESSING"
    assert all(r["videos"] == [] and r["artifacts"] == [] for r in body["resources"])
    app.clock.advance(30)
    body = report(client, ("jobName[0]", "p"))
    assert body["metadata"]["processingStatus"] == "PROCESSING_COMPLETE"
    assert all(r["videos"] and r["artifacts"] for r in body["resources"])


@pytest.mark.parametrize(
    "variant, second_page_status", [("default", "PROCESSING"), ("processing-per-page", "PROCESSING_COMPLETE")]
)
def test_processing_status_covers_the_report_or_the_page(variant, second_page_status):
    """Newest first: page 1 holds the build still processing, page 2 the processed one."""
    with serving(variant) as (app, client):
        seed_executions(app, 500, job_name="p", processing=0)
        app.clock.advance(50_000)
        seed_executions(app, 500, job_name="p", processing=60)
        assert report(client, ("jobName[0]", "p"), ("_page", 2))["metadata"]["processingStatus"] == second_page_status


def test_sandbox_builds_are_seeded_and_the_latest_processes_for_the_job_duration():
    with serving(job_duration=5) as (app, client):
        older = report(client, ("jobName[0]", SANDBOX_JOB), ("jobNumber[0]", 127))
        latest = report(client, ("jobName[0]", SANDBOX_JOB), ("jobNumber[0]", 128))
        assert [r["status"] for r in older["resources"]].count("FAILED") == 1 and len(older["resources"]) == 12
        assert older["metadata"]["processingStatus"] == "PROCESSING_COMPLETE"
        assert latest["metadata"]["processingStatus"] == "PROCESSING"
        app.clock.advance(5)
        assert report(client, ("jobNumber[0]", 128))["metadata"]["processingStatus"] == "PROCESSING_COMPLETE"


def test_commands_of_a_failed_test_and_of_an_unknown_one(emulator):
    app, client = emulator
    failed = seed_executions(app, 2, job_name="c", failure_share=1.0)[0]
    steps = client.get(f"{EXECUTIONS}/{failed['id']}/commands").json()["resources"]
    assert [s["testExecutionId"] for s in steps] == [failed["id"]] * 2
    assert (
        steps[-1]["commands"][-1]["status"] == "FAILURE" and steps[-1]["commands"][-1]["message"] == failed["message"]
    )
    unknown = client.get(f"{EXECUTIONS}/no-such-test/commands")
    assert unknown.status_code == 200 and unknown.json()["resources"] == []
    assert isinstance(unknown.json()["metadata"]["createdAt"], str)


def test_report_links_point_at_this_reporting_server(emulator):
    app, client = emulator
    made = seed_executions(app, 1, job_name="l")[0]
    assert report(client, ("jobName[0]", "l"))["resources"][0]["reportURL"] == f"{client.base_url}/test/{made['id']}"
    assert made["startTime"] == virtual_ms(-60)


# ---------------------------------------------------------------- latency and faults


def test_latency_and_faults_come_from_the_options():
    with serving(latency=0.2) as (_, client):
        started = time.monotonic()
        report(client)
        assert time.monotonic() - started >= 0.2
    with serving(failure_rate=1.0, failure_kinds=("429",)) as (app, client):
        response = client.get(EXECUTIONS)
        assert (
            response.status_code == 429
            and response.headers["Retry-After"] == "0"
            and response.json() == {"message": "injected fault"}
        )
        assert [r.status for r in app.log.all()] == [429]
