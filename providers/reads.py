"""One command's remote reads: each listing read once and shared, many reads at a time.

A plan asks the same listing many times: refresh reads a project's parameters,
then every parameter the plan adds looks for a twin by its natural key in the
same listing, and recovery looks again. ``Listings`` reads each key once per
command (the first caller reads, concurrent callers of that key wait for it,
other keys are read at the same time) and hands every later caller the same
list. Recovery after an ambiguous create must see what that create made, so
``fresh()`` gives a view that reads again and stores what it read.

``Fanout`` runs a batch of reads at once (the pages of a listing, the members
of each device group, the scopes of a refresh) on at most ``width`` threads
however the batches nest: a caller waiting on its batch runs the batch's
unclaimed reads itself, so a nested batch never waits for a thread that is
busy waiting on it, and helpers that finish move on to any open batch.

    listings = Listings(Fanout(16))
    params = listings.get(("bitbar_config_parameter", ("project", 7)), lambda: client.list(...))
    pages = listings.fanout.map(fetch_page, offsets)
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_WIDTH = 10  # labform.engine.options.DEFAULT_PARALLELISM; the session sets --parallelism


class _Batch:
    def __init__(self, call: Callable[[Any], Any], items: list[Any]):
        self.call = call
        self.items = items
        self.claimed = 0
        self.results: list[Any] = [None] * len(items)
        self.errors: list[BaseException | None] = [None] * len(items)
        self._left = len(items)
        self._lock = threading.Lock()
        self.done = threading.Event()

    def run(self, index: int) -> None:
        try:
            self.results[index] = self.call(self.items[index])
        except BaseException as error:  # handed to the caller, who raises it
            self.errors[index] = error
        with self._lock:
            self._left -= 1
            if self._left == 0:
                self.done.set()


class Fanout:
    def __init__(self, width: int = DEFAULT_WIDTH):
        self.width = max(1, width)
        self._lock = threading.Lock()
        self._open: list[_Batch] = []  # batches with unclaimed items, newest last
        self._helpers = 0

    def map(self, call: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[call(item) for item in items]``, several at once; the first error is raised once all ended."""
        batch = _Batch(call, list(items))
        if len(batch.items) <= 1 or self.width == 1:
            return [call(item) for item in batch.items]
        with self._lock:
            self._open.append(batch)
            spawn = max(0, min(self.width - 1 - self._helpers, len(batch.items) - 1))
            self._helpers += spawn
        for _ in range(spawn):
            threading.Thread(target=self._help, daemon=True, name="labform-read").start()
        while (index := self._claim(batch)) is not None:
            batch.run(index)
        batch.done.wait()
        error = next((e for e in batch.errors if e is not None), None)
        if error is not None:
            raise error
        return batch.results

    def _claim(self, batch: _Batch | None) -> int | None:
        """An unclaimed item of ``batch`` (of the newest open batch when None), or None."""
        with self._lock:
            if batch is None:
                if not self._open:
                    return None
                batch = self._open[-1]
            return self._take(batch)

    def _take(self, batch: _Batch) -> int | None:
        if batch.claimed >= len(batch.items):
            return None
        index = batch.claimed
        batch.claimed += 1
        if batch.claimed == len(batch.items):
            self._open.remove(batch)
        return index

    def _help(self) -> None:
        while True:
            with self._lock:
                batch = self._open[-1] if self._open else None
                index = None if batch is None else self._take(batch)
                if batch is None or index is None:
                    self._helpers -= 1
                    return
            batch.run(index)


class _Entry:
    def __init__(self) -> None:
        self.ready = threading.Event()
        self.value: list[Any] = []
        self.error: BaseException | None = None


class Listings:
    def __init__(self, fanout: Fanout | None = None):
        self.fanout = fanout or Fanout()
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry] = {}
        self._fresh = False

    def fresh(self) -> Listings:
        """A view of the same listings that reads each key again (and keeps what it read for everyone)."""
        view = copy.copy(self)
        view._fresh = True
        return view

    def get(self, key: Hashable, read: Callable[[], Iterable[T]]) -> list[T]:
        """What ``read()`` lists, read once per command for ``key``; an error is raised to every
        caller waiting on that read, and the next caller reads again."""
        with self._lock:
            entry = None if self._fresh else self._entries.get(key)
            mine = entry is None
            if entry is None:
                entry = self._entries[key] = _Entry()
        if not mine:
            entry.ready.wait()
            if entry.error is not None:
                raise entry.error
            return entry.value
        try:
            entry.value = list(read())
        except BaseException as error:
            entry.error = error
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            raise
        finally:
            entry.ready.set()
        return entry.value
