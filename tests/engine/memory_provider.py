"""An in-memory cloud behind the real provider interface, so engine tests need no network.

    MemoryProvider              provider ``memory``; settings ``store: <id>`` pick the cloud
    ├── Thing                   ``memory_thing``: read one by one (no listing)
    ├── Bucket                  ``memory_bucket``: refreshed in one batch through list()
    ├── Gauge                   ``memory_gauge``: a gate (``min_level``) on a level only the cloud sets
    └── Lookup                  data ``memory_lookup``: a value from the store's catalog
    MemoryStore                 the "cloud" itself, shared by every thread of one test

A test gets a fresh ``MemoryStore`` (tests/engine/conftest.py) and can look at
it, change it behind labform's back (drift), make the create/update of a named
object fail, and read back every call: its order, when it started and finished,
and how many calls ran at once::

    store.fail("broken")                 # create/update of name 'broken' raise ProviderError
    store.lose_answer("web")             # the next create of 'web' acts, then its answer is lost
    store.drop_request("web")            # the next create of 'web' fails ambiguously before acting
    store.edit("web", size=9)            # drift: the cloud changed it
    store.unlist("logs")                 # listings leave 'logs' out (an empty page), its read still finds it
    store.garble_listing({"name": "x"})  # listings also answer this item (no id: not an object labform reads)
    [(c.op, c.name) for c in store.writes()]
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from labform.providers.base import Arguments, Attrs, DataSource, Provider, ResourceType, Verdict, arg
from labform.providers.errors import NotFoundError, ProviderError

WRITES = ("create", "update", "delete")


@dataclass
class Call:
    """One call the engine made: what, on which object, and when (time.monotonic)."""

    op: str
    type_name: str
    name: str | None
    started: float
    finished: float = 0.0


class MemoryStore:
    """Objects by id, a catalog for lookups, a log of calls. Thread-safe: the engine calls it in parallel."""

    def __init__(self, store_id: str):
        self.id = store_id
        self.objects: dict[str, Attrs] = {}
        self.types: dict[str, str] = {}
        self.catalog: dict[str, Any] = {}
        self.calls: list[Call] = []
        self.failures: dict[str, str] = {}
        # Creates that fail ambiguously: after acting (answer lost) or before (request dropped).
        self.lost_answers: dict[str, int] = {}
        self.dropped_requests: dict[str, int] = {}
        # Seconds each write sleeps, so overlapping calls are observable.
        self.delay = 0.0
        self.lookup_delay = 0.0  # the same for each catalog lookup
        # Told of each write as it starts (before its delay), so a test can act at an exact moment.
        self.on_write: Callable[[Call], None] | None = None
        self.max_concurrent = 0
        self.unlisted: set[str] = set()
        self.garbage: list[Any] = []
        self._running = 0
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # --- what tests use --------------------------------------------------
    def fail(self, name: str, message: str = "injected failure") -> None:
        """Make every create and update of the object called ``name`` fail."""
        self.failures[name] = message

    def lose_answer(self, name: str, times: int = 1) -> None:
        """The next ``times`` creates of ``name`` make the object, then answer like a 500 to a POST."""
        self.lost_answers[name] = times

    def drop_request(self, name: str, times: int = 1) -> None:
        """The next ``times`` creates of ``name`` fail ambiguously without making anything."""
        self.dropped_requests[name] = times

    def _ambiguous(self, pending: dict[str, int], name: str | None) -> bool:
        with self._lock:
            if pending.get(name, 0) <= 0:
                return False
            pending[name] -= 1
            return True

    def named(self, name: str) -> Attrs | None:
        """A copy of the object called ``name``, or None."""
        with self._lock:
            found = [dict(attrs) for attrs in self.objects.values() if attrs.get("name") == name]
        assert len(found) <= 1, f"{len(found)} objects are called {name!r}"
        return found[0] if found else None

    def names(self, type_name: str | None = None) -> list[str]:
        """Names of the objects in the cloud (of one type, if given), sorted."""
        with self._lock:
            return sorted(a["name"] for i, a in self.objects.items() if type_name is None or self.types[i] == type_name)

    def edit(self, name: str, **changes: Any) -> None:
        """Change an object behind labform's back."""
        with self._lock:
            self.objects[self._id_of(name)].update(changes)

    def remove(self, name: str) -> None:
        """Delete an object behind labform's back."""
        with self._lock:
            object_id = self._id_of(name)
            del self.objects[object_id], self.types[object_id]

    def unlist(self, *names: str) -> None:
        """Leave these objects out of every listing (a page answered empty), though they still exist."""
        self.unlisted.update(names)

    def garble_listing(self, item: Any) -> None:
        """Answer ``item`` as well in every listing, as a cloud whose page changed shape would."""
        self.garbage.append(item)

    def add(self, type_name: str, **attrs: Any) -> str:
        """Create an object outside labform (something to import or adopt); returns its id."""
        with self._lock:
            return self._insert(type_name, attrs)

    def writes(self) -> list[Call]:
        """The create/update/delete calls, in the order they started."""
        with self._lock:
            return sorted((c for c in self.calls if c.op in WRITES), key=lambda c: c.started)

    def ops(self, *kinds: str) -> list[tuple[str, str | None]]:
        """(op, name) of the calls of the given kinds (default: writes), in start order."""
        with self._lock:
            calls = sorted((c for c in self.calls if c.op in (kinds or WRITES)), key=lambda c: c.started)
        return [(c.op, c.name) for c in calls]

    def call_of(self, op: str, name: str) -> Call:
        matches = [c for c in self.calls if (c.op, c.name) == (op, name)]
        assert len(matches) == 1, f"expected one {op} of {name!r}, saw {len(matches)}"
        return matches[0]

    def forget_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.max_concurrent = 0

    # --- what the provider uses -----------------------------------------
    @contextmanager
    def call(self, op: str, type_name: str, name: str | None) -> Iterator[None]:
        record = Call(op, type_name, name, time.monotonic())
        with self._lock:
            self.calls.append(record)
            self._running += 1
            self.max_concurrent = max(self.max_concurrent, self._running)
        try:
            if op in WRITES and self.on_write is not None:
                self.on_write(record)
            if op in WRITES and self.delay:
                time.sleep(self.delay)
            if op == "lookup" and self.lookup_delay:
                time.sleep(self.lookup_delay)
            if op in ("create", "update") and name in self.failures:
                raise ProviderError("memory", f"{op} {type_name}", 500, self.failures[name])
            if op == "create" and self._ambiguous(self.dropped_requests, name):
                raise ProviderError("memory", f"{op} {type_name}", None, "connection dropped", ambiguous=True)
            yield
            if op == "create" and self._ambiguous(self.lost_answers, name):
                raise ProviderError("memory", f"{op} {type_name}", 500, "answer lost after acting", ambiguous=True)
        finally:
            with self._lock:
                self._running -= 1
                record.finished = time.monotonic()

    def _id_of(self, name: str) -> str:
        ids = [i for i, attrs in self.objects.items() if attrs.get("name") == name]
        if len(ids) != 1:
            raise KeyError(f"{len(ids)} objects are called {name!r}")
        return ids[0]

    def _insert(self, type_name: str, attrs: Attrs) -> str:
        object_id = f"{type_name.removeprefix('memory_')}-{next(self._ids)}"
        self.objects[object_id] = {**attrs, "id": object_id, "revision": 1}
        self.types[object_id] = type_name
        return object_id

    def get(self, type_name: str, object_id: str) -> Attrs | None:
        with self._lock:
            if self.types.get(object_id) != type_name:
                return None
            return dict(self.objects[object_id])

    def of_type(self, type_name: str) -> list[Attrs]:
        with self._lock:
            return [dict(a) for i, a in self.objects.items() if self.types[i] == type_name]

    def listing(self, type_name: str) -> list[Any]:
        """What a listing answers: the objects of the type but the unlisted ones, then the garbage."""
        listed: list[Any] = [a for a in self.of_type(type_name) if a.get("name") not in self.unlisted]
        return listed + list(self.garbage)

    def insert(self, type_name: str, attrs: Attrs) -> Attrs:
        with self._lock:
            return dict(self.objects[self._insert(type_name, attrs)])

    def change(self, type_name: str, object_id: str, attrs: Attrs) -> Attrs:
        with self._lock:
            if self.types.get(object_id) != type_name:
                raise NotFoundError("memory", f"update {type_name}", 404, f"no {type_name} {object_id}")
            current = self.objects[object_id]
            current.update(attrs)
            current["revision"] += 1
            return dict(current)

    def drop(self, type_name: str, object_id: str) -> None:
        with self._lock:
            if self.types.get(object_id) != type_name:
                raise NotFoundError("memory", f"delete {type_name}", 404, f"no {type_name} {object_id}")
            del self.objects[object_id], self.types[object_id]


# One store per test, found through the provider setting ``store``.
STORES: dict[str, MemoryStore] = {}


def new_store() -> MemoryStore:
    store = MemoryStore("store-" + uuid.uuid4().hex[:12])
    STORES[store.id] = store
    return store


def drop_store(store: MemoryStore) -> None:
    STORES.pop(store.id, None)


# --- resource types --------------------------------------------------------
class _Stored(ResourceType):
    """Every call goes to the store; local arguments never reach the cloud."""

    computed = ("id", "revision")

    def _remote(self, desired: Attrs) -> Attrs:
        local = self.Args.fields_with("local")
        return {k: v for k, v in desired.items() if k not in local}

    def read(self, ctx, id, prior):
        with ctx.client.call("read", self.type_name, prior.get("name")):
            return ctx.client.get(self.type_name, id)

    def create(self, ctx, desired):
        with ctx.client.call("create", self.type_name, desired.get("name")):
            return ctx.client.insert(self.type_name, self._remote(desired))

    def update(self, ctx, id, desired, actual):
        with ctx.client.call("update", self.type_name, desired.get("name")):
            return ctx.client.change(self.type_name, id, self._remote(desired))

    def delete(self, ctx, id, actual):
        with ctx.client.call("delete", self.type_name, actual.get("name")):
            ctx.client.drop(self.type_name, id)

    def find_existing(self, ctx, desired):
        return next(iter(self.candidates(ctx, desired)), None)

    def candidates(self, ctx, desired):
        with ctx.client.call("find", self.type_name, desired.get("name")):
            return [a for a in ctx.client.of_type(self.type_name) if a.get("name") == desired["name"]]


class ThingArgs(Arguments):
    name: str = arg(min_length=1, description="Also the natural key.")
    kind: str | None = arg(None, force_new=True, description="Cannot change: a change replaces the thing.")
    size: int | None = arg(None, ge=0)
    tags: list[str] | None = arg(None, unordered=True)
    secret: str | None = arg(None, sensitive=True)
    note: str | None = arg(None, local=True, description="Known only to the plan.")
    parent: str | None = arg(None, description="Id of another object (a reference makes a graph edge).")


class Thing(_Stored):
    type_name = "memory_thing"
    Args = ThingArgs
    natural_key = ("name",)


class BucketArgs(Arguments):
    name: str = arg(min_length=1)
    region: str | None = arg(None, force_new=True)
    owner: str | None = arg(None)


class Bucket(_Stored):
    """Refreshed through one listing for all buckets, as real providers batch by scope."""

    type_name = "memory_bucket"
    Args = BucketArgs

    def list_scope(self, attrs):
        return ("buckets",)

    def list(self, ctx, scope):
        with ctx.client.call("list", self.type_name, None):
            return ctx.client.listing(self.type_name)


class GaugeArgs(Arguments):
    name: str = arg(min_length=1)
    min_level: int = arg(0, local=True, description="The gate: the cloud's level must reach it.")


class Gauge(_Stored):
    """A gate on ``level``, which only the cloud sets (0 when made; a test moves it with store.edit)."""

    type_name = "memory_gauge"
    Args = GaugeArgs
    computed = ("id", "revision", "level")

    def create(self, ctx, desired):
        with ctx.client.call("create", self.type_name, desired.get("name")):
            return ctx.client.insert(self.type_name, {**self._remote(desired), "level": 0})

    def verdict(self, desired, actual):
        if "level" not in actual:
            return Verdict("unknown", "not made yet")
        if actual["level"] < desired["min_level"]:
            return Verdict("fail", f"level {actual['level']} is below {desired['min_level']}")
        return Verdict("pass")


class LookupArgs(Arguments):
    name: str = arg(description="Key in the store's catalog.")
    more: list[str] = arg([], description="More keys, read at once as a cloud's pages are (within --parallelism).")


class Lookup(DataSource):
    type_name = "memory_lookup"
    Args = LookupArgs
    computed = ("value", "values")

    def read(self, ctx, args):
        return {
            "value": self._entry(ctx, args["name"]),
            "values": ctx.listings.fanout.map(lambda name: self._entry(ctx, name), args.get("more") or []),
        }

    def _entry(self, ctx, name: str) -> Any:
        with ctx.client.call("lookup", self.type_name, name):
            if name not in ctx.client.catalog:
                raise NotFoundError("memory", "lookup", 404, f"no catalog entry {name!r}")
            return ctx.client.catalog[name]


class MemorySettings(Arguments):
    store: str = arg(description="Id of the MemoryStore (tests/engine/conftest.py hands one to each test).")


class MemoryProvider(Provider):
    name = "memory"
    Settings = MemorySettings
    resource_types = (Thing, Bucket, Gauge)
    data_sources = (Lookup,)

    def client(self, settings: MemorySettings) -> MemoryStore:
        if settings.store not in STORES:
            raise ProviderError(
                "memory", "connect", None, f"no store {settings.store!r} (was the test's fixture used?)"
            )
        return STORES[settings.store]
