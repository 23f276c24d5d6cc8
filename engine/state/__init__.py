"""State: which remote object each plan address is, behind one backend interface.

    StateBackend (backend.py)  read() / append() / compact() / write() / locked() / force_unlock()
    ├── LocalStateBackend    a JSON file (atomic write, mode 0600, lock file)
    └── PostgresStateBackend a row per workspace, advisory lock

State never holds a secret: sensitive attributes are stored as fingerprints.
Every change to it goes through ``StateRecorder`` (recorder.py).
"""

from engine.state.backend import StateBackend
from engine.state.local import LocalStateBackend
from engine.state.model import ResourceState, State

__all__ = ["ResourceState", "State", "StateBackend", "LocalStateBackend", "open_backend"]


def open_backend(location: str) -> StateBackend:
    """``postgresql://...`` selects the PostgreSQL backend; anything else is a file path."""
    if location.startswith(("postgres://", "postgresql://")):
        from engine.state.postgres import PostgresStateBackend

        return PostgresStateBackend(location)
    from pathlib import Path

    return LocalStateBackend(Path(location))
