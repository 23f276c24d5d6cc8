"""State: which remote object each plan address is, behind one backend interface.

    StateBackend (backend.py)  read() / append() / compact() / write() / locked() / force_unlock()
    ├── LocalStateBackend    a JSON file (atomic write, mode 0600, lock file)
    └── PostgresStateBackend a row per workspace, advisory lock

State never holds a secret: sensitive attributes are stored as fingerprints.
Every change to it goes through ``StateRecorder`` (recorder.py).
"""

from pathlib import Path

from labform.engine.state.backend import StateBackend
from labform.engine.state.local import LocalStateBackend
from labform.engine.state.model import ResourceState, State

__all__ = ["ResourceState", "State", "StateBackend", "LocalStateBackend", "open_backend"]


def open_backend(location: str, plan_path: Path | None = None, force_rollback: bool = False) -> StateBackend:
    """``postgresql://...`` selects the PostgreSQL backend; anything else is a file path.

    Encrypted when the plan at ``plan_path`` (or LABFORM_ENCRYPTION) configures ``encryption: state``;
    ``force_rollback`` lets ``read`` accept a state older than the high-water mark (``state rekey``)."""
    from labform.engine.encryption.configured import encryption_config

    config = encryption_config(plan_path)
    target = config.state if config else None
    backend: StateBackend
    if location.startswith(("postgres://", "postgresql://")):
        from labform.engine.state.postgres import PostgresStateBackend

        backend = PostgresStateBackend(location, target)
    else:
        backend = LocalStateBackend(Path(location), target)
    backend.force_rollback = force_rollback
    return backend
