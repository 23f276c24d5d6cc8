"""Does an emulator's answer hold the keys of the doc's example, and only those? One checker for every cloud.

An endpoint's reference key set is the keys of its doc example plus the keys
its object table (the doc's schema or field list) names. The check runs both
ways, into nested objects and into every item of a list:

- *missing*: a reference key an answer's object lacks;
- *extra*: a key of an answer's object the reference does not hold;
- *unseen*: a reference key no answer checked showed at all (a key that is
  optional per object must still turn up somewhere).

A key is named by its path from the body: ``data.testset_id``,
``devices[].errors[].content`` (``[]`` is any item of a list). Departures
the doc allows are listed, each with its reason (the doc line, or the
emulator's choice and its variant), and are then not reported:

- ``conditional``: may be missing from an object (the doc shows it only for
  some objects: a failed test's message, a desktop's browserInfo), yet must
  be seen in some answer;
- ``unproduced``: never written by this emulator (a choice, listed with it);
- ``extra``: written although the reference lacks it (a choice).

A path ending in ``.*`` lists every key under an object whose keys are data,
not schema (a map of capabilities). Use::

    keys = ExampleKeys(example_body, table=("devices[].cpu_ghz",), conditional={"devices[].errors": "line 348"})
    problems = keys.check(answer) + keys.check(other_answer) + keys.unseen()
    assert problems == []

``count(problems)`` is what a report states before and after a fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ITEM = "[]"


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def key_paths(value: Any, where: str = "") -> set[str]:
    """Every key path in ``value``: its objects' keys, and those of every item of its lists."""
    if isinstance(value, dict):
        return {p for key, item in value.items() for p in {join(where, key), *key_paths(item, join(where, key))}}
    if isinstance(value, list):
        return {p for item in value for p in key_paths(item, where + ITEM)}
    return set()


def parents(path: str) -> set[str]:
    """The object paths above ``path``: ``a[].b.c`` -> ``a``, ``a[].b``; a body that is a list (``[].a``) is no key."""
    found = set()
    while "." in path:
        path = path.rsplit(".", 1)[0]
        found.add(path.removesuffix(ITEM))
    return found - {""}


def enclosing(path: str) -> set[str]:
    """``path`` and what holds it, items included: ``a[].b.c`` -> itself, ``a[].b``, ``a[]``, ``a``."""
    found = {path}
    while "." in path:
        path = path.rsplit(".", 1)[0]
        found |= {path, path.removesuffix(ITEM)}
    return found


def under_open_map(path: str, listing: Mapping[str, str]) -> bool:
    """``path`` lies under one of the listing's ``.*`` entries (an object whose keys are data)."""
    return any(entry.endswith(".*") and path.startswith(entry[:-1]) for entry in listing)


def listed(path: str, listing: Mapping[str, str]) -> bool:
    """``path`` is named by the listing, itself or under one of its ``.*`` entries."""
    return path in listing or under_open_map(path, listing)


class ExampleKeys:
    """The reference key set of one endpoint, and the answers checked against it so far."""

    def __init__(
        self,
        example: Any,
        *,
        table: Iterable[str] = (),
        conditional: Mapping[str, str] | None = None,
        unproduced: Mapping[str, str] | None = None,
        extra: Mapping[str, str] | None = None,
    ):
        table = tuple(table)
        self.reference = key_paths(example) | set(table) | {p for path in table for p in parents(path)}
        self.conditional = dict(conditional or {})
        self.unproduced = dict(unproduced or {})
        self.extra = dict(extra or {})
        self.seen: set[str] = set()

    def _children(self, where: str) -> set[str]:
        prefix = join(where, "")
        return {p[len(prefix) :] for p in self.reference if p.startswith(prefix) and "." not in p[len(prefix) :]}

    def check(self, answer: Any, where: str = "") -> list[str]:
        """Missing and extra keys of ``answer`` (a whole body), object by object; what it shows counts as seen."""
        if isinstance(answer, list):
            return [problem for item in answer for problem in self.check(item, where + ITEM)]
        if not isinstance(answer, dict):
            return []
        wanted, present = self._children(where), set(answer)
        self.seen |= {join(where, key) for key in present}
        problems = [
            f"missing {join(where, key)}"
            for key in sorted(wanted - present)
            if not listed(join(where, key), self.conditional)
            and not any(listed(p, self.unproduced) for p in enclosing(join(where, key)))
        ]
        problems += [f"extra {join(where, key)}" for key in sorted(present - wanted) if not self._allowed(where, key)]
        return problems + [
            problem for key in sorted(present) if key in wanted for problem in self.check(answer[key], join(where, key))
        ]

    def _allowed(self, where: str, key: str) -> bool:
        """A key off the reference: listed as an extra, or under an open map."""
        return listed(join(where, key), self.extra) or under_open_map(join(where, key), self.conditional)

    def unseen(self) -> list[str]:
        """Reference keys no checked answer showed, unless listed as never produced."""
        return [
            f"unseen {path}"
            for path in sorted(self.reference - self.seen)
            if not under_open_map(path, self.conditional)
            and not any(listed(p, self.unproduced) for p in enclosing(path))
        ]


def unseen(checks: Iterable[ExampleKeys]) -> list[str]:
    """Every check's unseen reference keys, once all answers have been checked."""
    return [problem for check in checks for problem in check.unseen()]


def count(problems: Iterable[str]) -> dict[str, int]:
    """How many problems of each kind (missing / extra / unseen)."""
    counts = {"missing": 0, "extra": 0, "unseen": 0}
    for problem in problems:
        counts[problem.split(" ", 1)[0]] += 1
    return counts
