"""Each run an apply carried out, added to its workspace's test history from the JUnit it wrote.

History is only ever added to, and only by what a run reported: a run that
wrote no JUnit (no ``junit:`` argument) adds nothing. A history that cannot
be written (a database gone mid-apply) is a warning, not a failed apply: the
cloud's objects and the state are already right.
"""

from __future__ import annotations

from pathlib import Path

from labform.engine.history import open_history, provenance, record_junit
from labform.engine.history.errors import HistoryError


def record_applied_runs(state_location: str, plan_folder: Path, written: list[tuple[str, Path]]) -> str | None:
    """Add each (cloud, JUnit file) to the history beside ``state_location``; a warning, or None."""
    if not written:
        return None
    try:
        store = open_history(state_location)
        commit, source = provenance.current_commit(plan_folder), provenance.current_source()
        for cloud, junit in written:
            record_junit(store, store.workspace, cloud, junit, commit=commit, source=source)
    except (HistoryError, OSError) as exc:
        return f"test history not written: {exc}"
    return None
