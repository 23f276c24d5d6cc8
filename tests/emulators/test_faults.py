"""The kit's fault injection over real HTTP: each kind, whether the handler acted, and the seeded draw.

A minimal widget emulator (built from the kit, as providers/emulation/README.md
shows) stands in for a cloud, so each test can see from the store whether a
request was carried out and compare what the client got.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.sandbox_harness import SandboxProcess
from labform.providers.emulation import (
    CONTROL_PREFIX,
    Emulator,
    EmulatorApp,
    EmulatorOptions,
    EmulatorServer,
    Rejection,
)
from labform.providers.emulation.app import INSPECTION_HEADER
from labform.providers.emulation.faults import GATEWAY_PAGE
from labform.providers.emulation.hostile import BAD_RETRY_AFTER
from labform.providers.emulation.options import ALL_FAULTS, FAULTS_AFTER, FAULTS_BEFORE
from labform.providers.http import parse_retry_after


class WidgetEmulator(Emulator):
    name = "widget"

    def initial_data(self) -> dict[str, Any]:
        return {"widgets": {}}

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"code": status, "message": message}}

    async def create(self, request) -> Response:
        with self.store.lock:
            widget_id = self.store.next_id("widget")
            self.data["widgets"][str(widget_id)] = {"id": widget_id, "size": int(request.query_params.get("size", 1))}
        return JSONResponse(
            {"id": widget_id, "size": self.data["widgets"][str(widget_id)]["size"], "padding": "x" * 40},
            status_code=201,
        )

    async def read(self, request) -> Response:
        widget = self.data["widgets"].get(request.path_params["widget_id"])
        if widget is None:
            raise Rejection(404, self.error_body(404, "no such widget"))
        return JSONResponse(widget)

    def routes(self):
        return [
            Route("/widgets", self.create, methods=["POST"]),
            Route("/widgets/{widget_id}", self.read, methods=["GET"]),
        ]


@contextmanager
def serving(**options: Any) -> Iterator[tuple[EmulatorApp, httpx.Client]]:
    app = WidgetEmulator(EmulatorOptions(retry_after=3, **options)).app()
    with EmulatorServer(app) as server, httpx.Client(base_url=server.url, timeout=5) as client:
        yield app, client


def widgets(app: EmulatorApp) -> int:
    return len(app.store.data["widgets"])


@pytest.mark.parametrize("kind", FAULTS_BEFORE)
def test_a_fault_before_the_handler_leaves_nothing_done(kind):
    """429 (with Retry-After and the cloud's error body), 500 and a dropped connection: the cloud did nothing."""
    with serving(failure_rate=1.0, failure_kinds=(kind,)) as (app, client):
        if kind == "drop":
            with pytest.raises(httpx.TransportError):
                client.post("/widgets")
        else:
            answer = client.post("/widgets")
            assert answer.status_code == int(kind)
            assert answer.json() == {"error": {"code": int(kind), "message": "injected fault"}}
            assert answer.headers.get("Retry-After") == ("3" if kind == "429" else None)
        assert widgets(app) == 0
        assert [r.status for r in app.log.all()] == [0 if kind == "drop" else int(kind)]


def test_a_500_after_the_handler_hides_a_created_object():
    with serving(failure_rate=1.0, failure_kinds=("500-after",)) as (app, client):
        answer = client.post("/widgets")
        assert answer.status_code == 500 and answer.json()["error"]["code"] == 500
        assert widgets(app) == 1


def test_a_connection_dropped_after_the_handler_keeps_and_persists_the_object(tmp_path):
    """The client sees a broken answer (part of the body, then the connection closes); the store is saved all the same."""
    data_file = tmp_path / "widget.json"
    with serving(failure_rate=1.0, failure_kinds=("drop-after",), data_file=data_file) as (app, client):
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/widgets")
        assert widgets(app) == 1
        assert [r.status for r in app.log.all()] == [0]
    assert len(json.loads(data_file.read_text())["widgets"]) == 1


def test_malformed_answers_are_a_200_html_page_a_truncated_body_or_nothing_and_the_object_exists():
    with serving(failure_rate=1.0, failure_kinds=("malformed",)) as (app, client):
        answers = [client.post("/widgets") for _ in range(12)]
        assert widgets(app) == 12
    assert {a.status_code for a in answers} == {200}
    forms = set()
    for answer in answers:
        if answer.headers["content-type"].startswith("text/html"):
            assert answer.content == GATEWAY_PAGE
            forms.add("html")
        elif not answer.content:
            forms.add("empty")
        else:
            assert answer.content.startswith(b'{"id":') and not answer.content.endswith(b"}")
            with pytest.raises(ValueError):
                json.loads(answer.content)
            forms.add("truncated")
    assert forms == {"html", "truncated", "empty"}


def test_a_malformed_fault_leaves_an_error_answer_as_the_cloud_gave_it():
    with serving(failure_rate=1.0, failure_kinds=("malformed",)) as (_, client):
        answer = client.get("/widgets/999")
    assert answer.status_code == 404 and answer.json() == {"error": {"code": 404, "message": "no such widget"}}


def test_a_bad_retry_after_is_a_429_whose_header_means_nothing_and_nothing_is_done():
    with serving(failure_rate=1.0, failure_kinds=("bad-retry-after",)) as (app, client):
        answers = [client.post("/widgets") for _ in range(12)]
        assert widgets(app) == 0
    assert {a.status_code for a in answers} == {429}
    said = {a.headers["Retry-After"] for a in answers}
    assert said <= set(BAD_RETRY_AFTER) and len(said) > 1
    assert all(parse_retry_after(value) is None for value in said)


def test_a_slow_body_arrives_a_byte_at_a_time_whole_and_the_object_exists():
    with serving(failure_rate=1.0, failure_kinds=("slow-body",), slow_body_delay=0.01) as (app, client):
        started = time.monotonic()
        with client.stream("POST", "/widgets") as answer:
            chunks = list(answer.iter_raw())
        took = time.monotonic() - started
        assert widgets(app) == 1
    body = b"".join(chunks)
    assert json.loads(body)["id"] == 1001 and len(chunks) == len(body) > 40
    assert took >= len(body) * 0.01


def test_a_huge_body_is_valid_json_of_the_size_asked_sent_without_a_length():
    size = 3 * 1024 * 1024 + 5
    with serving(failure_rate=1.0, failure_kinds=("huge-body",), huge_body_bytes=size) as (app, client):
        with client.stream("GET", "/widgets/1") as missing:
            assert missing.status_code == 404  # an error answer stays the cloud's
        with client.stream("POST", "/widgets") as answer:
            assert "content-length" not in answer.headers
            body = answer.read()
        assert widgets(app) == 1
    assert len(body) == size and set(json.loads(body)["padding"]) == {"x"}


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("swapped-types", {"id": "1001", "size": "1", "padding": 40}),
        ("list-body", [{"id": 1001, "size": 1, "padding": "x" * 40}]),
        ("null-body", None),
    ],
)
def test_a_reshaped_answer_is_json_of_another_shape_and_the_object_exists(kind, expected):
    with serving(failure_rate=1.0, failure_kinds=(kind,)) as (app, client):
        answer = client.post("/widgets")
        assert widgets(app) == 1
    assert answer.status_code == 201 and answer.json() == expected


def test_an_empty_page_empties_every_list_and_keeps_the_rest():
    from labform.providers.emulation.hostile import emptied, swapped

    page = {"data": [{"id": 1}], "next": "/page/2", "total": 60, "meta": {"items": [1, 2], "truncated": True}}
    assert emptied(page) == {"data": [], "next": "/page/2", "total": 60, "meta": {"items": [], "truncated": True}}
    assert [swapped(v) for v in (True, 3, "ab", {"a": 1}, [7], None)] == ["true", "3", 2, ["a"], {"0": 7}, 0]


def outcome(client: httpx.Client, path: str) -> str:
    """What a GET got: its status, 'malformed' for a body that is not JSON, or 'drop'."""
    try:
        answer = client.get(path)
    except httpx.TransportError:
        return "drop"
    try:
        answer.json()
    except ValueError:
        return "malformed"
    return str(answer.status_code)


def outcomes(client: httpx.Client, paths: list[str]) -> list[str]:
    return [outcome(client, path) for path in paths]


def test_the_same_seed_gives_each_request_the_same_fault_whatever_the_order_and_ids():
    """Faults follow (seed, request shape, how many of that shape came before), not one shared sequence:
    interleaving other requests, or reading another id, changes nothing; another seed changes the draw."""
    kinds = {"failure_rate": 0.5, "failure_kinds": ("429", "500", "drop")}
    with serving(seed=5, **kinds) as (_, client):
        alone = outcomes(client, ["/widgets/1"] * 20)
    with serving(seed=5, **kinds) as (_, client):
        mixed = outcomes(client, [p for _ in range(20) for p in ("/widgets/2", "/nowhere")])[::2]
    with serving(seed=6, **kinds) as (_, client):
        other_seed = outcomes(client, ["/widgets/1"] * 20)
    assert alone == mixed != other_seed
    assert {"429", "500", "drop", "404"} <= set(alone)


def test_the_rate_is_the_share_of_requests_faulted():
    with serving(seed=9, failure_rate=0.3, failure_kinds=ALL_FAULTS) as (app, client):
        outcomes(client, [f"/widgets/{i}" for i in range(300)])
        faulted = [r for r in app.log.all() if r.status != 404]
    assert 0.22 < len(faulted) / 300 < 0.38


def test_control_endpoints_are_never_faulted_and_show_what_the_emulator_holds():
    with serving(failure_rate=1.0, failure_kinds=FAULTS_AFTER) as (app, client):
        for _ in range(3):
            with suppress(httpx.TransportError):
                client.post("/widgets")
        store = client.get(CONTROL_PREFIX + "/store", headers={INSPECTION_HEADER: app.inspection_token or ""})
    assert store.status_code == 200 and len(store.json()["widgets"]) == 3


def test_an_unknown_fault_kind_is_refused_with_the_known_ones():
    with pytest.raises(
        ValueError,
        match="unknown fault kind 503: expected some of 429, 500, drop, 500-after, drop-after, malformed, "
        "bad-retry-after, slow-upload, slow-body, huge-body, gzip-bomb, swapped-types, list-body, null-body, empty-page",
    ):
        EmulatorOptions(failure_kinds=("503",))


def test_the_sandbox_command_serves_a_cloud_failing_as_told(tmp_path):
    """labform sandbox --failure-rate 1 --only bitbar: every API request fails (after-faults included), the control endpoint answers."""
    flags = ("--only", "bitbar", "--failure-rate", "1", "--seed", "5", "--latency", "20ms", "--job-seconds", "2")
    with SandboxProcess(tmp_path, *flags) as sandbox:
        bitbar = sandbox.clouds["bitbar"]
        assert set(sandbox.clouds) == {"bitbar"}
        with httpx.Client(
            base_url=bitbar.url,
            auth=(bitbar.settings["api_key"], ""),
            headers={"Accept": "application/json"},
            timeout=5,
        ) as client:
            seen = outcomes(client, ["/api/v2/devices"] * 30)
        assert "200" not in seen and {"429", "500", "drop", "malformed"} <= set(seen)
        assert bitbar.store()["devices"]


def test_the_sandbox_command_serves_the_doc_variant_asked_for(tmp_path):
    """--variant bitbar=project-names-repeat: a second project of the same name is created, not refused with 409."""
    with SandboxProcess(tmp_path, "--only", "bitbar", "--variant", "bitbar=project-names-repeat") as sandbox:
        bitbar = sandbox.clouds["bitbar"]
        with httpx.Client(
            base_url=bitbar.url,
            auth=(bitbar.settings["api_key"], ""),
            headers={"Accept": "application/json"},
            timeout=5,
        ) as client:
            created = [
                client.post("/api/v2/me/projects", data={"name": "twice", "type": "ANDROID"}).status_code
                for _ in range(2)
            ]
    assert created == [201, 201]


def test_the_sandbox_command_names_a_variant_the_emulator_lacks(tmp_path):
    with (
        pytest.raises(RuntimeError, match="the kyaraben emulator has no variant 'nope': expected one of default, "),
        SandboxProcess(tmp_path, "--only", "kyaraben", "--variant", "kyaraben=nope"),
    ):
        pass


def test_the_sandbox_command_serves_the_hostile_answers_asked_for(tmp_path):
    """--failure-kinds picks what --failure-rate draws from: here every answer is null."""
    flags = ("--only", "bitbar", "--failure-rate", "1", "--failure-kinds", "null-body")
    with SandboxProcess(tmp_path, *flags) as sandbox:
        bitbar = sandbox.clouds["bitbar"]
        answer = httpx.get(bitbar.url + "/api/v2/devices", auth=(bitbar.settings["api_key"], ""), timeout=5)
    assert answer.status_code == 200 and answer.json() is None
