"""Durations as plans write them, and waits that an interrupted apply stops."""

from __future__ import annotations

import threading

import pytest

from labform.providers.polling import WaitTimeout, parse_duration, wait_for


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("1.5h", 5400), ("1h30m", 5400), ("250ms", 0.25), (12, 12), ("45", 45)],
)
def test_durations_read_as_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["abc", "10x", "", "m"])
def test_a_bad_duration_says_how_to_write_one(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_a_set_stop_event_ends_a_wait_at_once_marked_interrupted():
    """An interrupted apply stops waiting without waiting out the timeout; the last answer is kept."""
    stop = threading.Event()
    stop.set()
    with pytest.raises(WaitTimeout) as stopped:
        wait_for(lambda: "running", done=lambda answer: False, timeout=3600, poll=60, stop=stop)
    assert stopped.value.interrupted and stopped.value.last == "running"


def test_a_read_that_failed_after_retries_does_not_end_a_run_wait():
    """A flaky run status read is read again at the next interval; the wait ends when the work does."""
    from labform.providers.errors import ProviderError

    answers = iter([ProviderError("bitbar", "read run", 500, "injected"), "running", "done"])

    def check():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    said: list[str] = []
    assert (
        wait_for(
            check,
            done=lambda a: a == "done",
            timeout=60,
            poll=0.01,
            sleep=lambda s: None,
            progress=said.append,
            read_again_on_error=True,
        )
        == "done"
    )
    assert any("reading again" in line for line in said)
