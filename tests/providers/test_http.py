"""The shared HTTP layer over real HTTP: retries, Retry-After, non-idempotent POSTs, OAuth."""

from __future__ import annotations

import time

import pytest

from labform.providers.bitbar import emulator
from labform.providers.bitbar.client import BitbarClient
from labform.providers.errors import NotFoundError, ProviderError
from labform.providers.http import RetryPolicy, parse_retry_after
from labform.providers.limits import Limits


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


def logged(running, method: str, path: str, at_least: int) -> int:
    """How many such requests the emulator logged, waiting (up to 5s) for ``at_least``: a hostile
    answer is logged when it ends, which may be just after the client hung up."""
    deadline = time.monotonic() + 5
    while len(running.app.log.matching(method, path)) < at_least and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(running.app.log.matching(method, path))


def limited(url: str, timeout: float, **limits: float) -> BitbarClient:
    """A client with small deadlines, so a test of them waits a second, not minutes."""
    made = BitbarClient(url, emulator.SANDBOX_API_KEY, None, None, timeout=timeout, limits=Limits(**limits))
    made.http.retry = RetryPolicy(attempts=8, backoff=0.01)
    return made


def test_a_server_sending_a_byte_at_a_time_fails_within_the_operation_deadline(emulator_options, bitbar):
    """Each byte comes well within the read timeout, yet the answer never ends: each attempt stops at its
    deadline, and the call (its retries included) at the operation's, with a named error."""
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("slow-body",)
    emulator_options.slow_body_delay = 0.05
    api = limited(bitbar.url, timeout=0.3, operation_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        api.get("/api/v2/devices", "list devices")
    took = time.monotonic() - started
    assert (caught.value.cloud, caught.value.operation) == ("bitbar", "list devices")
    assert "still arriving" in caught.value.message and "operation_timeout" in caught.value.message
    assert 0.9 < took < 1.6
    assert logged(bitbar, "GET", "/api/v2/devices", 2) >= 2  # a slow answer to a GET is asked again


def test_a_slow_answer_to_a_create_is_not_sent_again_and_is_ambiguous(emulator_options, bitbar):
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("slow-body",)
    emulator_options.slow_body_delay = 0.05
    with pytest.raises(ProviderError, match="still arriving after") as caught:
        limited(bitbar.url, timeout=0.3).post("/api/v2/me/projects", "create project", {"name": "x", "type": "ANDROID"})
    assert caught.value.ambiguous and "raise 'timeout'" in caught.value.message
    assert logged(bitbar, "POST", "/api/v2/me/projects", 1) == 1


def test_a_huge_answer_fails_on_the_cap_as_it_streams_in(emulator_options, bitbar):
    """100 MB of JSON: the call stops past max_answer_size (32 MiB by default), once, with what to do.
    (The memory it takes is measured by bench/hostile_answers.py.)"""
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("huge-body",)
    emulator_options.huge_body_bytes = 100 * 1000 * 1000
    with pytest.raises(ProviderError) as caught:
        limited(bitbar.url, timeout=10).get("/api/v2/devices", "list devices")
    assert caught.value.status == 200 and "larger than max_answer_size (33554432 bytes)" in caught.value.message
    assert "raise 'max_answer_size' in the provider block" in caught.value.message
    assert logged(bitbar, "GET", "/api/v2/devices", 1) == 1


def test_an_answer_declaring_more_than_the_cap_is_refused_unread(bitbar):
    with pytest.raises(ProviderError, match="larger than max_answer_size \\(100 bytes\\)"):
        limited(bitbar.url, timeout=5, max_answer_size=100).get("/api/v2/devices", "list devices")


def test_a_download_slower_than_the_minimum_rate_fails_with_what_to_do(emulator_options, bitbar, tmp_path):
    """No whole-body deadline for a download, but ~20 bytes/s is under download_min_rate over its window."""
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("slow-body",)
    emulator_options.slow_body_delay = 0.05
    api = limited(bitbar.url, timeout=5, download_idle_timeout=0.3, download_min_rate=1000)
    started = time.monotonic()
    with pytest.raises(ProviderError, match="download slowed to .* under download_min_rate") as caught:
        api.download("/api/v2/devices", tmp_path / "devices.json", "download devices", lambda line: None)
    assert caught.value.cloud == "bitbar" and time.monotonic() - started < 1.5
    assert not (tmp_path / "devices.json").exists()


@pytest.mark.parametrize("value", ["soon", "Mon, 99 Foo 2026 25:61:00 GMT", "-"])
def test_an_unparsable_retry_after_is_ignored(value):
    assert parse_retry_after(value) is None


def test_a_429_with_an_unparsable_retry_after_is_backed_off_as_usual(emulator_options, bitbar):
    emulator_options.failure_rate, emulator_options.failure_kinds = 0.5, ("bad-retry-after",)
    sleeps: list[float] = []
    devices = list(client(bitbar.url, sleeps, attempts=15).list("/api/v2/devices", "list devices"))
    assert len(devices) == 60 and sleeps
    assert all(0.01 <= pause <= 0.02 * 2**attempt for attempt, pause in enumerate(sleeps[:1]))
    assert 429 in {r.status for r in bitbar.app.log.matching("GET", "/api/v2/devices")}


@pytest.mark.parametrize("kind", ["swapped-types", "list-body", "null-body"])
def test_an_answer_of_the_wrong_shape_is_a_named_error(kind, emulator_options, bitbar):
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, (kind,)
    with pytest.raises(ProviderError, match="where the API gives") as caught:
        list(client(bitbar.url).list("/api/v2/devices", "list devices"))
    assert (caught.value.cloud, caught.value.operation) == ("bitbar", "list devices")
