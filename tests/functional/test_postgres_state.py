"""The PostgreSQL state backend (the server CI and every developer machine run on 127.0.0.1:5432)."""

from __future__ import annotations

import uuid

import pytest

from labform.engine.errors import StateLockedError
from labform.engine.state import State, open_backend
from tests.conftest import BITBAR_KEY, BITBAR_PROVIDER

PLAN = (
    BITBAR_PROVIDER
    + """
resources:
  bitbar_project.checkout:
    name: Checkout flow
    type: ANDROID
"""
)


def test_apply_and_replan_with_state_in_postgres(bitbar, workdir, state_url):
    """State written to the database after apply is what the next plan reads: no changes, no key stored."""
    workdir.write(PLAN)
    applied = workdir.apply("--state", state_url)
    assert applied.exit_code == 0, applied.output
    again = workdir.plan("--state", state_url, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    state = open_backend(state_url).read()
    assert state.serial >= 1 and list(state.resources) == ["bitbar_project.checkout"]
    assert BITBAR_KEY not in state.to_json()
    assert not workdir.state_file.exists()


def test_second_holder_is_refused_naming_the_first(state_url):
    """Two runners on one workspace: the second fails at once, told who holds the lock; force-unlock frees it."""
    first, second = open_backend(state_url), open_backend(state_url)
    first.acquire("apply")
    try:
        with pytest.raises(StateLockedError, match=r"held by pid \d+ on .* for 'apply'"):
            second.acquire("plan")
        assert second.force_unlock()["operation"] == "apply"
        second.acquire("plan")
        second.release()
    finally:
        first.release()


def test_workspaces_are_separate(state_url):
    """Each workspace is its own row: writing one leaves another empty."""
    backend = open_backend(state_url)
    state = State()
    backend.write(state)
    other = open_backend(state_url.rsplit("=", 1)[0] + "=" + uuid.uuid4().hex)
    assert backend.read().serial == 1
    assert other.read().resources == {} and other.read().serial == 0
