"""Every change to state goes through here: what apply did, import, refresh, state rm/mv.

One place decides how a remote object is recorded (sensitive values as
fingerprints, its dependencies, whether labform adopted it), so apply, import
and refresh can never record the same object differently. Each record is
written at once: an object exists in state from the moment the cloud answered.
"""

from __future__ import annotations

import threading
from typing import Any

from engine.addresses import Address
from engine.arguments import protect, resource_type
from engine.state.model import ResourceState, State, StateBackend


class StateRecorder:
    def __init__(self, state: State, backend: StateBackend):
        self.state = state
        self.backend = backend
        self._lock = threading.Lock()

    def get(self, address: Address) -> ResourceState | None:
        return self.state.resources.get(str(address))

    def remember(self, address: Address, attrs: dict[str, Any], dependencies: list[str], adopted: bool = False) -> ResourceState:
        """Record the object the cloud answered with (``attrs`` holds its id) and write state."""
        item = ResourceState(
            type=address.type,
            id=str(attrs["id"]),
            attributes=protect(resource_type(address), attrs),
            dependencies=dependencies,
            adopted=adopted,
        )
        with self._lock:
            self.state.resources[str(address)] = item
            self.backend.write(self.state)
        return item

    def forget(self, address: Address) -> None:
        with self._lock:
            if self.state.resources.pop(str(address), None) is not None:
                self.backend.write(self.state)

    def refreshed(self, address: Address, attrs: dict[str, Any], dependencies: list[str] | None = None) -> None:
        """Take what refresh saw (accepted drift) without writing; ``finish`` writes if anything moved."""
        with self._lock:
            item = self.state.resources.get(str(address))
            if item is None:
                return
            item.attributes = dict(attrs)
            if dependencies is not None:
                item.dependencies = dependencies

    def finish(self, outputs: dict[str, Any] | None = None, since: str | None = None) -> None:
        """Write once more if the state differs from ``since`` (a no-op apply keeps its serial)."""
        with self._lock:
            if outputs is not None:
                self.state.outputs = outputs
            if since is None or self.state.to_json() != since:
                self.backend.write(self.state)
