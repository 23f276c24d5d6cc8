"""The Execution Report's query string as the doc spells it, and which executions it selects.

``field[N]=value`` names one value of a field (values of one field are ORed,
fields ANDed); an ``x`` before the field name excludes what it names;
``customField.NAME[N]`` matches a test's custom field. Parameters the doc
does not list are ignored: its table lists only "some of" them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from labform.providers.perfecto.emulator.variants import Variants

Resource = dict[str, Any]
CUSTOM = "customField."
_NAME = re.compile(r"^(?P<name>x?customField\.[^\[\]]+|[A-Za-z]+)(?:\[\d+\])?$")
# "executionId[0] or externalId[0]" (line 64): two spellings of one field.
_ALIASES = {"executionId": "externalId"}
# The filter table writes INTERNET_EXPORER (line 71), the schema and example INTERNET_EXPLORER.
_SPELLINGS = {"INTERNET_EXPORER": "INTERNET_EXPLORER"}


def _top(key: str) -> Callable[[Resource], list[Any]]:
    return lambda r: [r.get(key)]


def _nested(outer: str, key: str) -> Callable[[Resource], list[Any]]:
    return lambda r: [(r.get(outer) or {}).get(key)]


def _platform(*path: str) -> Callable[[Resource], list[Any]]:
    def values(r: Resource) -> list[Any]:
        found = []
        for platform in r.get("platforms") or []:
            for key in path:
                platform = (platform or {}).get(key) if isinstance(platform, dict) else None
            found.append(platform)
        return found

    return values


# Filter name -> the resource's values for it (filter table, lines 39-113).
FIELDS: dict[str, Callable[[Resource], list[Any]]] = {
    "id": _top("id"),
    "externalId": _top("externalId"),
    "tags": lambda r: list(r.get("tags") or []),
    "status": _top("status"),
    "os": _platform("os"),
    "browserType": _platform("browserInfo", "browserType"),
    "browserVersion": _platform("browserInfo", "browserVersion"),
    "screenResolution": _platform("screenResolution"),
    "deviceType": _platform("deviceType"),
    "deviceModel": _platform("mobileInfo", "model"),
    "deviceId": _platform("deviceId"),
    "jobName": _nested("job", "name"),
    "jobNumber": _nested("job", "number"),
    "jobBranch": _nested("job", "branch"),
    "projectName": _nested("project", "name"),
    "projectVersion": _nested("project", "version"),
    # The schema has a failure reason's name only; the filter's "failure reason ID" is matched against it.
    "failureReason": _top("failureReasonName"),
    "triggerType": _top("triggerType"),
}


def _text(value: Any) -> str:
    return _SPELLINGS.get(str(value), str(value))


def _values(resource: Resource, name: str) -> set[str]:
    if name.startswith(CUSTOM):
        wanted = name[len(CUSTOM) :]
        return {_text(f.get("value")) for f in resource.get("customFields") or [] if f.get("name") == wanted}
    return {_text(v) for v in FIELDS[name](resource) if v is not None}


def _known(name: str) -> bool:
    return name in FIELDS or (name.startswith(CUSTOM) and len(name) > len(CUSTOM))


def _int(text: str) -> int | None:
    return int(text) if text.strip().lstrip("-").isdigit() else None


@dataclass
class Query:
    include: dict[str, set[str]] = field(default_factory=dict)
    exclude: dict[str, set[str]] = field(default_factory=dict)
    start: int | None = None
    end: int | None = None
    page: int = 1

    @classmethod
    def parse(cls, items: Iterable[tuple[str, str]]) -> Query:
        query = cls()
        for key, value in items:
            if key == "_page":
                query.page = max(1, _int(value) or 1)
                continue
            match = _NAME.match(key)
            if not match:
                continue
            name = _ALIASES.get(match.group("name"), match.group("name"))
            if name in ("startExecutionTime", "endExecutionTime"):
                attr = "start" if name == "startExecutionTime" else "end"
                if getattr(query, attr) is None:
                    setattr(query, attr, _int(value))
            elif _known(name):
                query.include.setdefault(name, set()).add(_text(value))
            elif name.startswith("x") and _known(_ALIASES.get(name[1:], name[1:])):
                query.exclude.setdefault(_ALIASES.get(name[1:], name[1:]), set()).add(_text(value))
        return query

    def selects(self, resource: Resource, variants: Variants) -> bool:
        if any(not wanted & _values(resource, name) for name, wanted in self.include.items()):
            return False
        if any(unwanted & _values(resource, name) for name, unwanted in self.exclude.items()):
            return False
        return self._in_window(resource.get("startTime"), variants)

    def _in_window(self, started: int | None, variants: Variants) -> bool:
        # endExecutionTime counts only with startExecutionTime (lines 116-117).
        if self.start is None:
            return True
        if started is None:
            return False
        if variants.time_window == "as_written":
            return started <= self.start and (self.end is None or started >= self.end)
        return started >= self.start and (self.end is None or started <= self.end)
