"""A listing proves presence, never absence: refresh against a Bitbar emulator whose parameter listing lies.

The emulator is served behind a small ASGI front that answers the project's
config-parameter listing itself (an empty page, or one with an item that has
no id) and passes every other request, the parameters' own GETs included, to
the real emulator. The plan reaches the front through ``BITBAR_URL``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from labform.providers.emulation import EmulatorServer
from tests.conftest import BITBAR_PROVIDER, state_of

PLAN = (
    BITBAR_PROVIDER
    + """
resources:
  bitbar_project.shop:
    name: Shop
    type: ANDROID
  bitbar_config_parameter.a:
    project: ${bitbar_project.shop.id}
    key: a
    value: "1"
  bitbar_config_parameter.b:
    project: ${bitbar_project.shop.id}
    key: b
    value: "2"
"""
)
EMPTY_PAGE: dict[str, Any] = {"next": None, "previous": None, "data": [], "offset": 0, "limit": 0, "total": 0}


class ListingFront:
    """Answers GET .../config/parameters (the listing, not one parameter) with ``page``; the rest passes."""

    def __init__(self, app: ASGIApp, page: dict[str, Any]):
        self.app = app
        self.body = json.dumps(page).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].endswith("/config/parameters"):
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


@contextmanager
def listing_answers(bitbar: Any, page: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with EmulatorServer(ListingFront(bitbar.app, page)) as front:
        monkeypatch.setenv("BITBAR_URL", front.url)
        yield


def parameter_gets(bitbar: Any) -> list[str]:
    """Paths of the single-parameter GETs (refresh's confirmation reads)."""
    return sorted(
        r.path for r in bitbar.app.log.matching("GET", "/config/parameters/") if not r.path.endswith("/parameters")
    )


def applied(workdir: Any) -> dict[str, Any]:
    workdir.write(PLAN)
    result = workdir.apply()
    assert result.exit_code == 0, result.output
    return state_of(workdir)["resources"]


def test_an_empty_listing_page_leaves_state_intact(bitbar, workdir, monkeypatch):
    """Each parameter missing from the empty page is read on its own, found, and kept: no change, no re-create."""
    before = applied(workdir)
    bitbar.app.log.clear()
    with listing_answers(bitbar, EMPTY_PAGE, monkeypatch):
        planned = workdir.plan("--detailed-exitcode")
        assert planned.exit_code == 0, planned.output
        assert "No changes." in planned.stdout and "deleted outside labform" not in planned.stdout
        assert workdir.apply("--refresh-only").exit_code == 0
    assert sorted(state_of(workdir)["resources"]) == sorted(before)
    ids = [before[f"bitbar_config_parameter.{key}"]["id"] for key in ("a", "b")]
    assert [path.rsplit("/", 1)[1] for path in parameter_gets(bitbar)] == sorted(ids * 2)  # plan, then apply
    assert [r for r in bitbar.app.log.all() if r.method != "GET"] == []


def test_an_object_missing_from_the_page_is_dropped_when_its_own_read_says_404(bitbar, workdir, monkeypatch):
    """Only the parameter deleted in the emulator (its GET answers 404) is drift; the other is kept."""
    before = applied(workdir)
    gone = before["bitbar_config_parameter.a"]["id"]
    with bitbar.app.store.lock:
        del bitbar.app.store.data["parameters"][gone]
    with listing_answers(bitbar, EMPTY_PAGE, monkeypatch):
        planned = workdir.plan()
    assert planned.exit_code == 0, planned.output
    assert "bitbar_config_parameter.a" in planned.stdout and "deleted outside labform" in planned.stdout
    assert "bitbar_config_parameter.b" not in planned.stdout


def test_a_listing_item_without_an_id_is_an_error_not_an_absence(bitbar, workdir, monkeypatch):
    """A page whose item cannot be read fails the plan, naming the cloud and the listing; state is untouched."""
    before = applied(workdir)
    garbled = {**EMPTY_PAGE, "data": [{"key": "a", "value": "1"}], "total": 1}
    with listing_answers(bitbar, garbled, monkeypatch):
        planned = workdir.plan()
        refreshed = workdir.apply("--refresh-only")
    assert planned.exit_code == 1 and refreshed.exit_code == 1
    assert "bitbar: list bitbar_config_parameter failed: " in planned.stderr
    assert "item 0 has no id" in planned.stderr
    assert state_of(workdir)["resources"] == before


def test_a_listing_item_with_swapped_field_types_is_an_error_not_drift(bitbar, workdir, monkeypatch):
    """The parameters listed with their ids intact but a number where the key (a string) belongs: the
    plan fails naming the field, instead of planning updates from a garbled page; state is untouched."""
    before = applied(workdir)
    ids = [int(before[f"bitbar_config_parameter.{key}"]["id"]) for key in ("a", "b")]
    swapped = {**EMPTY_PAGE, "data": [{"id": id, "key": 1, "value": "1"} for id in ids], "total": 2}
    with listing_answers(bitbar, swapped, monkeypatch):
        planned = workdir.plan()
    assert planned.exit_code == 1, planned.output
    assert "item 0's 'key' is int, not a string" in planned.stderr and "internal error" not in planned.output
    assert state_of(workdir)["resources"] == before
