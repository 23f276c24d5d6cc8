"""Each run an apply carried out, added to its workspace's test history from the JUnit it wrote.

History is only ever added to, and only by what a run reported: a run that
wrote no JUnit (no ``junit:`` argument) adds nothing. A history that cannot
be written (a database gone mid-apply) is a warning, not a failed apply: the
cloud's objects and the state are already right (so is a history whose key is wrong).
"""

from __future__ import annotations

from pathlib import Path

from labform.engine.encryption.errors import EncryptionError
from labform.engine.history import open_history, provenance, record_junit
from labform.engine.history.errors import HistoryError


def record_applied_runs(state_location: str, plan_path: Path, written: list[tuple[str, Path]]) -> str | None:
    """Add each (cloud, JUnit file) to the history beside ``state_location`` (encrypted as the plan at
    ``plan_path`` says); a warning, or None."""
    if not written:
        return None
    folder = plan_path if plan_path.is_dir() else plan_path.parent
    try:
        store = open_history(state_location, plan_path)
        commit, source = provenance.current_commit(folder), provenance.current_source()
        for cloud, junit in written:
            record_junit(store, store.workspace, cloud, junit, commit=commit, source=source)
    except (HistoryError, EncryptionError, OSError) as exc:
        return f"test history not written: {exc}"
    return None
