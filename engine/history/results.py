"""One recorded attempt of one test: a row of the history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
Source = Literal["ci", "local"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "error", "skipped")
SOURCES: tuple[Source, ...] = ("ci", "local")


@dataclass(frozen=True)
class Result:
    """One attempt of one test on one device, as a history row (never changed once added).

    ``run_id`` ties the attempts of one recording together: with no commit
    known, the run is the closest thing to "the same code" the figures have.
    ``device`` is "" when unknown; ``duration`` None when the report had none.
    """

    workspace: str
    cloud: str
    test_id: str
    device: str
    commit: str | None
    run_id: str
    source: Source
    attempt: int
    outcome: Outcome
    duration: float | None
