"""``labform reconcile serve`` in a process of its own, over real HTTP: the push webhook's HMAC
(GitHub's X-Hub-Signature-256), what it queues, /healthz and /metrics."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.functional import test_reconcile_kit as kit
from tests.functional.test_reconcile_kit import write_config

reconcile_db, repo = kit.reconcile_db, kit.repo  # the kit's fixtures, used here
ROOT = Path(__file__).resolve().parents[2]
SECRET = "it's a secret to everybody"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path, reconcile_db, repo, bitbar) -> Iterator[tuple[str, Path]]:
    env_line = f"env: {{BITBAR_URL: '{os.environ['BITBAR_URL']}', BITBAR_API_KEY: '{os.environ['BITBAR_API_KEY']}'}}"
    workspaces = f"shop:\n  repo: https://github.com/acme/plans.git\n  path: quickstart\n  {env_line}\n"
    workspaces += f"local:\n  repo: {repo.path}\n  path: quickstart\n  {env_line}\n"
    port = _free_port()
    config = write_config(tmp_path, reconcile_db, workspaces, f"webhook: {{secret_env: HOOK_SECRET, port: {port}}}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "labform.engine", "reconcile", "serve", "--config", str(config)],
        env={**os.environ, "PYTHONPATH": str(ROOT), "HOOK_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not start: {process.communicate()[0]}")
        time.sleep(0.1)
    yield url, config
    process.terminate()
    process.communicate(timeout=30)


PUSH = {
    "ref": "refs/heads/main",
    "after": "0" * 40,
    "repository": {"full_name": "acme/plans", "clone_url": "https://github.com/acme/plans.git"},
}


def _post(url: str, body: bytes, signature: str | None, event: str = "push") -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return httpx.post(url + "/webhook", content=body, headers=headers)


def _sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _queued(database: str) -> list[str]:
    with psycopg.connect(database) as conn:
        return [
            row[0] for row in conn.execute("SELECT lock FROM procrastinate_jobs WHERE task_name = 'labform.reconcile'")
        ]


def test_a_signed_push_queues_its_workspace_once(server, reconcile_db):
    url, _ = server
    body = json.dumps(PUSH).encode()
    answer = _post(url, body, _sign(body))
    assert (answer.status_code, answer.json()) == (202, {"queued": ["shop"], "already_queued": []})
    again = _post(url, body, _sign(body))
    assert again.json() == {"queued": [], "already_queued": ["shop"]}
    assert _queued(reconcile_db) == ["workspace:shop"]


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", _sign(b"another body")])
def test_a_missing_or_bad_signature_is_401_and_queues_nothing(server, reconcile_db, signature):
    url, _ = server
    answer = _post(url, json.dumps(PUSH).encode(), signature)
    assert answer.status_code == 401 and "X-Hub-Signature-256" in answer.text
    assert _queued(reconcile_db) == []


def test_bad_bodies_are_plain_4xx(server, reconcile_db):
    url, _ = server
    for body, status, words in [
        (b"{not json", 400, "not JSON"),
        (json.dumps({"ref": "refs/heads/main"}).encode(), 400, "names its repository"),
        (json.dumps({**PUSH, "repository": {"full_name": "acme/other"}}).encode(), 404, "no workspace"),
        (json.dumps({**PUSH, "ref": "refs/heads/feature"}).encode(), 404, "no workspace"),
    ]:
        answer = _post(url, body, _sign(body))
        assert (answer.status_code, words in answer.text) == (status, True), answer.text
    assert _queued(reconcile_db) == []


def test_metrics_report_reconciles_by_outcome_and_drift(server, workdir):
    url, config = server
    assert workdir.run("reconcile", "now", "local", "--config", str(config)).exit_code == 0
    text = httpx.get(url + "/metrics").text
    assert 'labform_reconciles{outcome="drift",workspace="local"} 1.0' in text
    assert 'labform_drifted_resources{workspace="local"} 0.0' in text
    assert 'labform_last_success_timestamp_seconds{workspace="local"}' in text
    assert httpx.get(url + "/healthz").text == "ok\n"
