"""Bounds kept at the socket (providers/deadlines.py): trickled headers, a crawling upload and a
gzip bomb each end in a named error within their bound, over real connections."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from labform.providers.bitbar import emulator
from labform.providers.bitbar.client import BitbarClient
from labform.providers.errors import Overdue, ProviderError
from labform.providers.http import HttpClient, RetryPolicy
from labform.providers.limits import Limits, MiB


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """A server that answers every request with a status line and then a header a byte every 50 ms,
    forever: something no ASGI server can be made to send, hence a raw socket."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Padding: ")
                while not stop.wait(0.05):
                    connection.sendall(b"x")
            except OSError:  # the client hung up: what a bounded client does
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def test_headers_trickled_a_byte_at_a_time_end_at_the_operation_deadline(trickling_server):
    """Every byte comes well within the 0.3 s read timeout, yet the headers never end: httpx alone
    would wait forever; each attempt stops at its deadline, the call at the operation's."""
    client = HttpClient("widget", trickling_server, timeout=0.3, limits=Limits(operation_timeout=1.0))
    client.retry = RetryPolicy(attempts=8, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(Overdue) as caught:
        client.request("GET", "/things", operation="list things")
    took = time.monotonic() - started
    assert (caught.value.cloud, caught.value.operation) == ("widget", "list things")
    assert "still arriving" in caught.value.message and "raise 'operation_timeout'" in caught.value.message
    assert took < 2.5  # not the minutes the trickle would take


def test_trickled_headers_to_a_create_are_ambiguous_and_not_sent_again(trickling_server):
    client = HttpClient("widget", trickling_server, timeout=0.3)
    with pytest.raises(Overdue) as caught:
        client.request("POST", "/things", operation="create thing", json={"name": "x"})
    assert caught.value.ambiguous and "raise 'timeout'" in caught.value.message


def test_a_gzip_bomb_fails_on_the_cap_as_it_inflates(emulator_options, bitbar):
    """100 MB of JSON arrives as ~100 KB of gzip: the cap counts what it inflates to."""
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("gzip-bomb",)
    emulator_options.huge_body_bytes = 100 * 1000 * 1000
    api = BitbarClient(bitbar.url, emulator.SANDBOX_API_KEY, None, None, timeout=10)
    with pytest.raises(ProviderError, match=r"larger than max_answer_size \(33554432 bytes\)") as caught:
        api.get("/api/v2/devices", "list devices")
    assert caught.value.status == 200 and not isinstance(caught.value, Overdue)


def test_a_gzipped_answer_under_the_cap_reads_as_usual(emulator_options, bitbar):
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("gzip-bomb",)
    emulator_options.huge_body_bytes = 1000
    answer = BitbarClient(bitbar.url, emulator.SANDBOX_API_KEY, None, None, timeout=10).get("/api/v2/me", "read me")
    assert set(answer) == {"padding"} and len(answer["padding"]) == 1000 - len('{"padding": ""}')


def test_an_upload_the_server_takes_in_at_a_crawl_ends_on_the_upload_pace(emulator_options, bitbar, tmp_path):
    """The server reads a piece every 0.2 s (a few hundred KB/s); the upload must keep 20 MiB/s over
    each 0.3 s: it ends within a second or two, named, and (a POST) ambiguous, never resent."""
    emulator_options.failure_rate, emulator_options.failure_kinds = 1.0, ("slow-upload",)
    emulator_options.slow_body_delay = 0.2
    app = tmp_path / "app.apk"
    app.write_bytes(b"\0" * (48 * MiB))
    limits = Limits(upload_idle_timeout=0.3, upload_min_rate=20 * MiB)
    api = BitbarClient(bitbar.url, emulator.SANDBOX_API_KEY, None, None, timeout=5, limits=limits)
    project = api.post("/api/v2/me/projects", "create project", {"name": "x", "type": "ANDROID"})
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught, app.open("rb") as handle:
        api.upload(
            f"/api/v2/me/projects/{project['id']}/files/application",
            "upload file",
            ("app.apk", handle, "application/octet-stream"),
        )
    assert time.monotonic() - started < 5
    assert caught.value.operation == "upload file" and caught.value.ambiguous
    assert "upload" in caught.value.message and "in the provider block" in caught.value.message
