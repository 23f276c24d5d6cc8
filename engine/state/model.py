"""The state document and the backend contract."""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

FORMAT_VERSION = 1


@dataclass
class ResourceState:
    type: str
    id: str
    attributes: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    # Taken over rather than created (same content already uploaded): destroy forgets it.
    adopted: bool = False


@dataclass
class State:
    serial: int = 0
    # Empty until the first write, so a plan made before any state exists stays valid.
    lineage: str = ""
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=str) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "State":
        raw = json.loads(text)
        resources = {addr: ResourceState(**item) for addr, item in raw.get("resources", {}).items()}
        return cls(
            serial=raw["serial"],
            lineage=raw["lineage"],
            resources=resources,
            outputs=raw.get("outputs", {}),
            version=raw.get("version", FORMAT_VERSION),
        )


def lock_holder(operation: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "operation": operation,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "user": getpass.getuser(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def describe_holder(holder: dict[str, Any]) -> str:
    return (
        f"held by pid {holder.get('pid')} on {holder.get('host')} ({holder.get('user')}) "
        f"since {holder.get('time')} for '{holder.get('operation')}', lock id {holder.get('id')}"
    )


class StateBackend(ABC):
    """Where state lives. ``write`` bumps the serial; ``lock`` is exclusive."""

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def read(self) -> State: ...

    @abstractmethod
    def _store(self, state: State) -> None: ...

    @abstractmethod
    def acquire(self, operation: str) -> None:
        """Take the lock or raise StateLockedError naming the holder."""

    @abstractmethod
    def release(self) -> None: ...

    @abstractmethod
    def force_unlock(self) -> dict[str, Any] | None:
        """Remove a lock left by a dead process; returns who held it."""

    def write(self, state: State) -> None:
        state.lineage = state.lineage or str(uuid.uuid4())
        state.serial += 1
        self._store(state)

    @contextmanager
    def locked(self, operation: str) -> Iterator[None]:
        self.acquire(operation)
        try:
            yield
        finally:
            self.release()
