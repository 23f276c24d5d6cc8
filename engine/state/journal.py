"""The intent journal: what an apply is about to do and what it did, one record at a time.

Before each call that creates something remotely the executor appends an
*intent* (address, action, the natural key it will be found by); after each
remote step a *result* (the object as recorded). A kill at any instant leaves
a journal whose last record is either one or the other, so the next command
knows exactly which creates may have happened without being recorded, and
looks those up by natural key instead of creating them again. An intent whose
outcome cannot be established is marked *unresolved* (kept, with when and
why) until ``labform state resolve`` turns it into a result or abandons it.

Appending one record costs O(1) whatever the size of the state; the snapshot
is compacted from the journal at the end of a command and every
``COMPACT_AFTER_RECORDS`` records (or as many as the state holds, if more)
or ``COMPACT_AFTER_SECONDS`` seconds.

Every record carries the serial it brings the state to, so replaying a
journal over a snapshot that already holds some of it (a crash between the
snapshot write and the journal reset) applies each record once.

    record = {"serial": 8, "kind": "intent", "address": "bitbar_project.app", "time": ...,
              "action": "create", "desired": {...}, "natural_key": {"name": "App"}}
    record = {"serial": 9, "kind": "unresolved", "address": "wetest_test.smoke", "time": ...,
              "why": "the submit's answer was lost and WeTest lists no tests"}
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labform.engine.diskwrite import write_failed
from labform.engine.state.model import ResourceState, State

if TYPE_CHECKING:
    from labform.engine.encryption.records import RecordChain

COMPACT_AFTER_RECORDS = 500
COMPACT_AFTER_SECONDS = 30.0

Record = dict[str, Any]


def intent(address: str, action: str, desired: dict[str, Any], natural_key: dict[str, Any]) -> Record:
    return {
        "kind": "intent",
        "address": address,
        "time": time.time(),
        "action": action,
        "desired": desired,
        "natural_key": natural_key,
    }


def result(address: str, item: ResourceState) -> Record:
    return {"kind": "result", "address": address, "time": time.time(), "resource": item.to_dict()}


def forget(address: str) -> Record:
    return {"kind": "forget", "address": address, "time": time.time()}


def move(source: str, target: str) -> Record:
    """``state mv`` in one record, so a crash never leaves the object recorded at both addresses."""
    return {"kind": "move", "address": source, "target": target, "time": time.time()}


def abandon(address: str, why: str) -> Record:
    """The create an intent announced did not happen (the cloud said no): nothing to recover."""
    return {"kind": "abandon", "address": address, "time": time.time(), "why": why}


def unresolved(address: str, why: str) -> Record:
    """Whether the create an intent announced happened cannot be established: the intent is kept,
    marked, and every apply refuses until ``labform state resolve`` says which it was."""
    return {"kind": "unresolved", "address": address, "time": time.time(), "why": why}


def rollback(from_lineage: str, from_serial: int) -> Record:
    """An older (or other) state accepted on purpose (``-force-rollback``): kept in the journal and the mark."""
    return {
        "kind": "rollback",
        "address": "",
        "time": time.time(),
        "from_lineage": from_lineage,
        "from_serial": from_serial,
    }


def apply_record(state: State, record: Record) -> None:
    """One record's effect on the state (the serial moves to the record's)."""
    address = record["address"]
    kind = record["kind"]
    if kind == "intent":
        state.intents[address] = {k: record[k] for k in ("action", "desired", "natural_key", "time")}
    elif kind == "result":
        state.resources[address] = ResourceState.from_dict(record["resource"])
        state.intents.pop(address, None)
    elif kind == "forget":
        state.resources.pop(address, None)
        state.intents.pop(address, None)
    elif kind == "abandon":
        state.intents.pop(address, None)
    elif kind == "unresolved" and address in state.intents:
        state.intents[address]["unresolved"] = {"time": record["time"], "why": record["why"]}
    elif kind == "move":
        state.resources[record["target"]] = state.resources.pop(address)
    state.serial = record["serial"]
    state.lineage = state.lineage or record.get("lineage", "")


def replay(state: State, records: list[Record]) -> State:
    for record in records:
        if record["serial"] > state.serial:
            apply_record(state, record)
    return state


class FileJournal:
    """An append-only JSON-lines file beside the state; every record fsynced before it counts.

    Completions that arrive together share one fsync: a writer whose record a
    concurrent fsync already covered returns without another.

    With a ``chain`` (encrypted state) each line is a sealed record chained to the one
    before: every whole line must authenticate; only a torn last line is dropped."""

    def __init__(self, path: Path, chain: RecordChain | None = None):
        self.path = path
        self.chain = chain
        self._fd: int | None = None
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0
        self._synced = 0

    def read(self) -> list[Record]:
        """Every whole record; a torn last line (killed mid-write) is ignored: it never counted."""
        if not self.path.exists():
            return []
        if self.chain is not None:
            return self.chain.open(self._whole_lines())
        records = []
        for line in self.path.read_bytes().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                break
        return records

    def _whole_lines(self) -> list[Any]:
        """Each line that ends in a newline, parsed; the piece after the last newline is a torn write."""
        from labform.engine.encryption.errors import EncryptionError

        *whole, _torn = self.path.read_bytes().split(b"\n")
        items = []
        for number, line in enumerate(whole, start=1):
            try:
                items.append(json.loads(line))
            except ValueError:
                raise EncryptionError(
                    f"journal {self.path}, record {number} is tampered: it is not a record (and not the last line)"
                ) from None
        return items

    def write(self, record: Record) -> None:
        """Append in order (not yet fsynced): callers hold the recorder's lock.

        A write that fails (a full disk) is cut off again, so no torn line is
        left for a later record to follow; the error names the journal."""
        with self._write_lock:
            try:
                fd = self._fd if self._fd is not None else self._open()
                start = os.fstat(fd).st_size
            except OSError as exc:
                raise write_failed(self.path, exc) from None
            linked = self.chain.previous if self.chain is not None else None
            written = record if self.chain is None else self.chain.seal(record)
            line = (json.dumps(written, sort_keys=True, default=str) + "\n").encode()
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
            except OSError as exc:
                self._cut(fd, start)
                if self.chain is not None:
                    self.chain.previous = linked  # the record is not there: the next one follows the one before
                raise write_failed(self.path, exc) from None
            self._written += 1

    def _open(self) -> int:
        """Open for appending, cutting a torn last line (a write killed or failed mid-line) first."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        size = os.fstat(fd).st_size
        if size:
            with open(self.path, "rb") as existing:
                existing.seek(size - 1)
                if existing.read(1) != b"\n":
                    existing.seek(0)
                    os.ftruncate(fd, existing.read(size).rfind(b"\n") + 1)
        if self.chain is not None and self.chain.previous is None:
            whole = self._whole_lines()
            self.chain.resume(whole[-1] if whole else None)
        self._fd = fd
        return fd

    def _cut(self, fd: int, size: int) -> None:
        """Back to ``size`` after a failed write; if even that fails, the next write reopens and cuts."""
        try:
            os.ftruncate(fd, size)
        except OSError:
            self._fd = None
            os.close(fd)

    def sync(self) -> None:
        """fsync everything written so far, unless a concurrent sync already covered it. A reset (which
        closes the descriptor) waits for a sync in progress, and the descriptor is read once the sync
        may start: never one a reset closed."""
        with self._write_lock:
            wanted = self._written
        with self._sync_lock:
            if self._synced >= wanted:
                return
            with self._write_lock:
                covered, fd = self._written, self._fd
            if fd is None:  # reset since: a snapshot holds everything written
                return
            try:
                os.fsync(fd)
            except OSError as exc:
                raise write_failed(self.path, exc, "the changes since the last snapshot may not be durable") from None
            self._synced = covered

    def reset(self) -> None:
        """Empty the journal once a snapshot holds everything in it (after any sync in progress)."""
        with self._sync_lock, self._write_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self.path.unlink(missing_ok=True)
            if self.chain is not None:
                self.chain.previous = ""
