"""The figures a report keeps beside itself (``report.json``), so the next one shows the previous run's.

Each run's address maps to its figures now and the previous run's: a report
written again for the same run (the same id) keeps what it said of the one
before, and takes back what only its apply knew (the duration, the plan's
estimate); a report of a new run (another id) shows the old figures as the
previous run's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from labform.engine import diskwrite
from labform.engine.errors import LabformError
from labform.engine.report.model import Figures


@dataclass(frozen=True)
class Kept:
    current: Figures
    previous: Figures | None


def read(path: Path) -> dict[str, Kept]:
    """What the last report written to ``path`` kept; nothing when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text())
        return {
            address: Kept(
                Figures.from_json(item["current"]),
                Figures.from_json(item["previous"]) if item.get("previous") else None,
            )
            for address, item in data.get("runs", {}).items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def same_run(kept: Kept | None, run_id: str) -> Figures | None:
    """The figures kept of this very run (what only its apply knew: its duration, the plan's estimate)."""
    return kept.current if kept is not None and kept.current.run_id == run_id else None


def earlier(kept: Kept | None, run_id: str) -> Figures | None:
    """The previous run's figures: the kept ones of another run, else what was kept as previous."""
    if kept is None:
        return None
    return kept.previous if kept.current.run_id == run_id else kept.current


def write(path: Path, runs: dict[str, Kept]) -> None:
    body = {
        address: {"current": k.current.to_json(), "previous": k.previous.to_json() if k.previous else None}
        for address, k in runs.items()
    }
    text = json.dumps({"runs": body}, indent=2, sort_keys=True) + "\n"
    diskwrite.replace(path, text, "the report is not written", LabformError, 0o644)
