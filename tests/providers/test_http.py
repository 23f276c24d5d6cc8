"""The shared HTTP layer over real HTTP: retries, Retry-After, non-idempotent POSTs, OAuth."""

from __future__ import annotations

import time

import pytest

from providers.bitbar import emulator
from providers.bitbar.client import BitbarClient
from providers.errors import NotFoundError, ProviderError
from providers.http import RetryPolicy


def client(url: str, sleeps: list[float] | None = None, attempts: int = 5, **credentials) -> BitbarClient:
    made = BitbarClient(
        url,
        credentials.get("api_key", emulator.SANDBOX_API_KEY if not credentials else None),
        credentials.get("username"),
        credentials.get("password"),
        timeout=5,
    )
    made.http.retry = RetryPolicy(attempts=attempts, backoff=0.01)
    if sleeps is not None:
        made.http.sleep = sleeps.append
    return made


@pytest.mark.parametrize("kind, seen", [("429", 429), ("500", 500), ("drop", 0)])
def test_get_is_retried_through_faults(kind, seen, emulator_options, bitbar):
    """With half the requests failing (429, 500 or a dropped connection), a read still succeeds."""
    emulator_options.failure_rate = 0.5
    emulator_options.failure_kinds = (kind,)
    emulator_options.retry_after = 2
    sleeps: list[float] = []
    devices = list(client(bitbar.url, sleeps, attempts=15).list("/api/v2/devices", "list devices"))
    assert len(devices) == 60
    statuses = [r.status for r in bitbar.app.log.matching("GET", "/api/v2/devices")]
    assert seen in statuses and 200 in statuses  # status 0: the connection was dropped mid-response
    if kind == "429":
        assert 2.0 in sleeps  # Retry-After was honoured


def test_create_is_not_retried_after_a_500(emulator_options, bitbar):
    """A POST that may have created something is not sent twice; the error says what failed."""
    emulator_options.failure_rate = 1.0
    emulator_options.failure_kinds = ("500",)
    with pytest.raises(ProviderError) as caught:
        client(bitbar.url, []).post("/api/v2/me/projects", "create project", {"name": "x", "type": "ANDROID"})
    assert (caught.value.cloud, caught.value.operation, caught.value.status) == ("bitbar", "create project", 500)
    assert len(bitbar.app.log.matching("POST", "/api/v2/me/projects")) == 1


def test_create_is_retried_after_a_429(emulator_options, bitbar):
    """429 means the server did nothing, so even a create is retried, until the attempts run out."""
    emulator_options.failure_rate = 1.0
    emulator_options.failure_kinds = ("429",)
    with pytest.raises(ProviderError, match=r"\(429\)"):
        client(bitbar.url, []).post("/api/v2/me/projects", "create project", {"name": "x", "type": "ANDROID"})
    assert len(bitbar.app.log.matching("POST", "/api/v2/me/projects")) == 5


def test_not_found_is_its_own_error(bitbar):
    with pytest.raises(NotFoundError):
        client(bitbar.url).get("/api/v2/me/projects/1", "read project")


def test_oauth_password_grant_token_travels_only_in_the_header(bitbar):
    """Username and password get a token once; every call carries it as a Bearer header, never in the URL."""
    api = client(bitbar.url, username=emulator.SANDBOX_USERNAME, password=emulator.SANDBOX_PASSWORD)
    api.get("/api/v2/me/projects", "list projects")
    api.get("/api/v2/devices", "list devices")
    assert len(bitbar.app.log.matching(path_contains="/oauth/token")) == 1
    calls = [r for r in bitbar.app.log.all() if r.path.startswith("/api/")]
    assert all(r.headers["authorization"].startswith("Bearer ") for r in calls)
    assert all("access_token" not in r.query and "password" not in r.query for r in bitbar.app.log.all())


@pytest.fixture
def short_tokens(emulator_options):
    emulator_options.credentials["token_ttl"] = "61"  # inside the 60 s refresh margin after 1 s


def test_oauth_token_is_refreshed_before_it_expires(short_tokens, bitbar):
    """A token about to expire is refreshed before the next call instead of failing with 401."""
    api = client(bitbar.url, username=emulator.SANDBOX_USERNAME, password=emulator.SANDBOX_PASSWORD)
    api.get("/api/v2/me/projects", "list projects")
    time.sleep(1.1)
    api.get("/api/v2/me/projects", "list projects")
    assert len(bitbar.app.log.matching(path_contains="/oauth/token")) == 2
    assert all(r.status != 401 for r in bitbar.app.log.all())


def test_wrong_password_is_a_clean_401(bitbar):
    api = client(bitbar.url, username=emulator.SANDBOX_USERNAME, password="not-the-password")
    with pytest.raises(ProviderError) as caught:
        api.get("/api/v2/me/projects", "list projects")
    assert caught.value.status == 401
    assert "not-the-password" not in str(caught.value)
