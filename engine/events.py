"""What a command reports while it runs, as data: the CLI prints each as a line
for people or as one JSON object per line (``apply -json``) for machines.

    change_started   change_finished   change_failed   change_skipped
    progress         (a run's or an upload's progress; ``address`` says whose)
    recovered        (an interrupted create found by its natural key and adopted)
    summary          (the last event of an apply: counts and lists, see ApplyResult.summary)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str
    message: str
    address: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "message": self.message,
            **({"address": self.address} if self.address else {}),
            **self.data,
        }


Reporter = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The reporter of a caller that wants no progress (tests, library use)."""
