"""The knobs every emulator honours, in one object tests and the sandbox fill in.

The defaults make a quiet, exact server: no latency, no faults, a frozen clock.

Fault kinds (``failure_kinds``), in two families, because a client must treat
them differently:

- *before* the handler runs, so the cloud did nothing: ``429`` (with
  Retry-After), ``500``, ``drop`` (the connection breaks). Retrying is safe.
- *after* the handler acted (the object was created, the run started), so the
  answer is lost but the effect is not: ``500-after``, ``drop-after``, and
  ``malformed`` (a 2xx whose body is an HTML page, truncated or empty). A
  blind retry of a create duplicates the object; only a lookup is safe.

Hostile answers (``HOSTILE``), which no retry makes right, so a client must
end each in a named error (and never in a hang): ``bad-retry-after`` (a 429
whose Retry-After is neither seconds nor a date) and ``slow-upload`` (the
request body taken in a piece every ``slow_body_delay``), both before the
handler, and, after it, ``slow-body`` (the answer a byte every
``slow_body_delay``), ``huge-body`` (``huge_body_bytes`` of JSON, streamed),
``gzip-bomb`` (as much JSON once inflated, sent gzipped), ``swapped-types``
(each top-level member of the JSON answer of another type), ``list-body`` and
``null-body`` (the answer as a JSON list, or null), ``empty-page`` (every list
in the answer emptied, its paging left as it was). They are drawn only when
named: the sandbox's default kinds stay the recoverable ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labform.providers.emulation.clock import Clock

FAULTS_BEFORE = ("429", "500", "drop")
FAULTS_AFTER = ("500-after", "drop-after", "malformed")
ALL_FAULTS = FAULTS_BEFORE + FAULTS_AFTER
HOSTILE_BEFORE = ("bad-retry-after", "slow-upload")
HOSTILE_AFTER = ("slow-body", "huge-body", "gzip-bomb", "swapped-types", "list-body", "null-body", "empty-page")
HOSTILE = HOSTILE_BEFORE + HOSTILE_AFTER
KNOWN_FAULTS = ALL_FAULTS + HOSTILE


def check_failure_kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """``kinds`` if each is a known fault kind and there is at least one, else ValueError naming them."""
    unknown = [kind for kind in kinds if kind not in KNOWN_FAULTS]
    if unknown or not kinds:
        raise ValueError(
            f"unknown fault kind {', '.join(unknown) or '(none given)'}: expected some of {', '.join(KNOWN_FAULTS)}"
        )
    return kinds


@dataclass
class EmulatorOptions:
    latency: float = 0.0
    # Share (0..1) of requests that get a fault, each drawn from ``seed`` (see faults.py).
    failure_rate: float = 0.0
    # The faults drawn from; the default keeps to those that fire before the handler runs.
    failure_kinds: tuple[str, ...] = FAULTS_BEFORE
    # Only requests whose "METHOD /path" this regular expression finds get faults; None: every request.
    failure_paths: str | None = None
    retry_after: int = 1
    # A slow-body answer's pause between two bytes, and a huge-body answer's size.
    slow_body_delay: float = 1.0
    huge_body_bytes: int = 100 * 1024 * 1024
    page_size: int = 20
    seed: int = 7
    clock: Clock = field(default_factory=lambda: Clock(speed=0))
    # Seconds of virtual time a run / async job takes to finish.
    job_duration: float = 60.0
    # Share (0..1) of simulated test cases that fail, drawn from ``seed``.
    failure_share: float = 0.0
    # Share (0..1) of simulated tests that are flaky, drawn from ``seed``: each attempt of one fails
    # with probability FLAKY_ATTEMPT_FAILURE, so a re-run may pass it (providers/emulation/fakes.py).
    flaky_rate: float = 0.0
    # Where the store persists (the sandbox); None keeps everything in memory (tests).
    data_file: Path | None = None
    # Credentials the emulator accepts; each cloud reads the keys it knows.
    credentials: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_failure_kinds(tuple(self.failure_kinds))
