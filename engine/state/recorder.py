"""Every change to state goes through here: what apply did, import, refresh, state rm/mv.

No other module calls a backend's ``append``/``compact``/``write``
(tests/engine/test_state_recording.py checks it).

One place decides how a remote object is recorded (sensitive values as
fingerprints, its dependencies, whether labform adopted it), so apply, import
and refresh can never record the same object differently.

Each record is appended to the journal and made durable before the caller
goes on (O(1) per change): an intent before a create is sent, the result the
moment the cloud answered. The snapshot is compacted from the journal at
``finish`` and every ``COMPACT_AFTER_RECORDS`` records (at least as many as
the state holds) or ``COMPACT_AFTER_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from labform.engine import secrets
from labform.engine.addresses import Address
from labform.engine.arguments import protect, resource_type
from labform.engine.errors import StateError
from labform.engine.state import journal
from labform.engine.state.backend import StateBackend
from labform.engine.state.model import ResourceState, State
from labform.providers import masking


class StateRecorder:
    def __init__(self, state: State, backend: StateBackend):
        self.state = state
        self.backend = backend
        self._lock = threading.Lock()
        self._since_compact = 0
        self._compacted_at = time.monotonic()

    def get(self, address: Address) -> ResourceState | None:
        return self.state.resources.get(str(address))

    # --- journalled changes ------------------------------------------------
    def intend(self, address: Address, action: str, desired: dict[str, Any]) -> None:
        """Announce a create before its request goes out, with the natural key that finds it."""
        rtype = resource_type(address)
        protected = protect(rtype, desired)
        key = {name: protected.get(name) for name in rtype.natural_key}
        self._append(journal.intent(str(address), action, protected, key))

    def abandon(self, address: Address, why: str) -> None:
        """The announced create did not happen (the cloud refused it)."""
        if str(address) in self.state.intents:
            self._append(journal.abandon(str(address), why))

    def unresolved(self, address: Address, why: str) -> None:
        """The announced create may or may not have happened, and nothing can tell: keep the
        intent, marked, so no apply sends it again on a guess (``labform state resolve`` clears it)."""
        held = self.state.intents.get(str(address))
        if held is not None and not held.get("unresolved"):
            self._append(journal.unresolved(str(address), why))

    def remember(
        self,
        address: Address,
        attrs: dict[str, Any],
        dependencies: list[str],
        adopted: bool = False,
        tainted: bool = False,
    ) -> ResourceState:
        """Record the object the cloud answered with (``attrs`` holds its id)."""
        before = self.state.resources.get(str(address))
        item = ResourceState(
            type=address.type,
            id=str(attrs["id"]),
            attributes=protect(resource_type(address), attrs, prior=before.attributes if before else None),
            dependencies=dependencies,
            adopted=adopted,
            tainted=tainted,
        )
        self._append(journal.result(str(address), item))
        return item

    def forget(self, address: Address) -> None:
        """The object is no longer labform's: gone remotely, destroyed, or ``state rm``."""
        if str(address) in self.state.resources or str(address) in self.state.intents:
            self._append(journal.forget(str(address)))

    def move(self, source: Address, target: Address) -> None:
        """``state mv``: the object recorded at ``source`` is now ``target``'s (the same remote object)."""
        item = self.state.resources.get(str(source))
        if item is None:
            raise StateError(f"{source} is not in state")
        if str(target) in self.state.resources:
            raise StateError(f"{target} is already in state")
        if source.type != target.type:
            raise StateError(f"cannot move {source} to a different type ({target.type})")
        self._append(journal.move(str(source), str(target)))

    def accept_rollback(self) -> None:
        """The state read is older than (or of another lineage than) the backend's high-water mark, and
        ``-force-rollback`` accepts it: say so in the journal; the mark follows it down at the next sync."""
        mark = self.backend.rolled_back
        if mark is not None:
            self._append(journal.rollback(mark.lineage, mark.serial))

    def _append(self, record: journal.Record) -> None:
        with self._lock:
            stamped = self.backend.stamp(self.state, record)
            self.backend.append(stamped)
            journal.apply_record(self.state, stamped)
            self._since_compact += 1
            due = self._since_compact >= max(journal.COMPACT_AFTER_RECORDS, len(self.state.resources)) or (
                time.monotonic() - self._compacted_at >= journal.COMPACT_AFTER_SECONDS
            )
        self.backend.sync()
        if due:
            self._compact()

    def _compact(self) -> None:
        with self._lock:
            self.backend.compact(self.state)
            self._since_compact = 0
            self._compacted_at = time.monotonic()

    # --- whole-state changes -------------------------------------------------
    def refreshed(self, address: Address, attrs: dict[str, Any], dependencies: list[str] | None = None) -> None:
        """Take what refresh saw (accepted drift) in memory; ``finish`` stores it if anything moved."""
        with self._lock:
            item = self.state.resources.get(str(address))
            if item is None:
                return
            item.attributes = dict(attrs)
            if dependencies is not None:
                item.dependencies = dependencies

    def finish(self, outputs: dict[str, Any] | None = None, since: str | None = None) -> None:
        """Store the snapshot if the state differs from ``since`` (a no-op apply keeps its serial)."""
        with self._lock:
            if outputs is not None:  # an output holding a secret is kept as its fingerprint, as arguments are
                prior = self.state.outputs
                self.state.outputs = {
                    name: secrets.kept(value, prior.get(name)) if masking.holds(value) else value
                    for name, value in outputs.items()
                }
            moved = since is None or self.state.to_json() != since
        if moved and self._since_compact == 0:
            self.backend.write(self.state)  # only in-memory changes (accepted drift, outputs): a serial of their own
        elif moved:
            self._compact()
