"""What a report shows of one run, built once from its state entry (and the apply, when there was one).

Every count is the run record's (providers/run_record.py) where the run has
one, so the HTML page, its Markdown and the CI summary count exactly what
JUnit and ``-json`` count: each test case once per device, by its last
attempt; a flaky case among the passed; quarantined cases counted too (as
JUnit has them) and listed apart. A run whose cloud keeps no record yet shows
its type's facts and no matrix.

Clouds report how long each attempt took, not when it started, so the
per-device timeline lays a device's attempts end to end, in attempt order.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labform.engine.report.cost import RunCost
from labform.providers.base import RunFacts
from labform.providers.run_record import FAILING, CaseRecord, RunRecord

# How an artifact is shown, by its file name's ending; anything else is a plain file.
KINDS = {
    ".txt": "log",
    ".log": "log",
    ".png": "screenshot",
    ".jpg": "screenshot",
    ".jpeg": "screenshot",
    ".mp4": "video",
    ".webm": "video",
    ".xml": "junit",
    ".pdf": "report",
    ".csv": "report",
}


@dataclass(frozen=True)
class Figures:
    """A run's headline numbers: shown, kept beside the report, shown again as the previous run's."""

    run_id: str
    devices: int | None
    tests: int | None
    passed: int | None
    failed: int | None
    flaky: int | None
    skipped: int | None
    quarantined: int
    attempts: int | None
    seconds: float | None
    credits: float | None
    estimate: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        values: dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__}
        return cls(**{**values, "run_id": str(values["run_id"] or ""), "quarantined": int(values["quarantined"] or 0)})


@dataclass(frozen=True)
class Link:
    label: str
    href: str  # relative to the report's folder (or a URL as the cloud gave it)
    kind: str


@dataclass(frozen=True)
class Cell:
    """One test on one device: its last attempt's outcome, how many attempts it took."""

    state: str  # pass, fail, flaky, skip
    attempts: int
    seconds: float | None
    quarantined: bool
    message: str
    links: list[Link]

    @property
    def title(self) -> str:
        took = f", {self.seconds:.2f}s" if self.seconds is not None else ""
        quarantined = ", quarantined" if self.quarantined else ""
        said = f": {self.message}" if self.message else ""
        return f"{self.state}, {self.attempts} attempt(s){took}{quarantined}{said}"


@dataclass(frozen=True)
class Segment:
    start: float  # seconds since the device's first attempt began (laid end to end)
    seconds: float
    state: str
    label: str


@dataclass
class DeviceLane:
    device: str
    segments: list[Segment] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    seconds: float = 0.0  # the lane's length: every attempt's duration

    def add(self, seconds: float, state: str, label: str) -> None:
        """The next attempt, after the last; passes in a row make one segment (only a failure stands out)."""
        last = self.segments[-1] if self.segments else None
        if last is not None and last.state == state == "pass":
            self.segments[-1] = Segment(last.start, last.seconds + seconds, state, "passed")
        else:
            self.segments.append(Segment(self.seconds, seconds, state, label))
        self.seconds += seconds


@dataclass
class RunView:
    address: str
    figures: Figures
    gate: str
    cost: RunCost
    has_record: bool
    devices: list[str] = field(default_factory=list)
    rows: list[tuple[str, list[Cell | None]]] = field(default_factory=list)  # test id, a cell per device
    lanes: list[DeviceLane] = field(default_factory=list)
    failed: list[CaseRecord] = field(default_factory=list)
    flaky: list[CaseRecord] = field(default_factory=list)
    quarantined: list[CaseRecord] = field(default_factory=list)
    slowest: list[tuple[str, str, float]] = field(default_factory=list)  # test id, device, seconds
    links: list[Link] = field(default_factory=list)  # the run's own artifacts, not one device's
    previous: Figures | None = None

    @property
    def span(self) -> float:
        """The longest lane: the timeline's full width."""
        return max((lane.seconds for lane in self.lanes), default=0.0)


def cell_state(case: CaseRecord) -> str:
    if case.flaky:
        return "flaky"
    if case.outcome in FAILING:
        return "fail"
    return "pass" if case.outcome == "passed" else "skip"


def link(target: str, base: Path, label: str | None = None) -> Link:
    """An artifact as the report links it: a URL as given, a local file relative to the report's folder."""
    name = label or target.rstrip("/").rsplit("/", 1)[-1]
    kind = KINDS.get(Path(name).suffix.lower(), "file")
    if "://" in target:
        return Link(name, target, kind)
    href = Path(os.path.relpath(Path(target).resolve(), base.resolve())).as_posix()
    return Link(name, href, kind)


def folder_links(folder: Path, base: Path) -> dict[str, list[Link]]:
    """The files under a run's artifacts folder, by their first sub-folder ("" for the folder's own)."""
    found: dict[str, list[Link]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        parts = path.relative_to(folder).parts
        owner = parts[0] if len(parts) > 1 else ""
        found.setdefault(owner, []).append(link(str(path), base, "/".join(parts[1:]) if owner else parts[0]))
    return found


def _safe(name: str) -> str:
    """A device name as a folder name (letters, digits, - _ . kept): how a per-device artifacts folder is found."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_")


def build_view(
    address: str,
    attrs: dict[str, Any],
    facts: RunFacts,
    gate: str,
    cost: RunCost,
    seconds: float | None,
    base: Path,
    previous: Figures | None = None,
) -> RunView:
    """The run as the report shows it; ``base``: the report's folder, which links are relative to."""
    raw = attrs.get("record")
    record = RunRecord.from_json(raw) if raw is not None else None
    quarantine = list((attrs.get("gate") or {}).get("quarantine") or [])
    run_id = str(attrs.get("id", ""))
    if record is None:
        figures = Figures(
            run_id,
            facts.devices,
            None if facts.passed is None or facts.failed is None else facts.passed + facts.failed,
            facts.passed,
            facts.failed,
            facts.flaky,
            None,
            0,
            None,
            seconds,
            cost.credits,
            cost.estimate,
        )
        view = RunView(address, figures, gate, cost, False, previous=previous)
    else:
        counts = record.counts()
        held = record.quarantined(quarantine)
        figures = Figures(
            run_id,
            counts.devices,
            counts.tests,
            counts.passed,
            counts.failed,
            counts.flaky,
            counts.skipped,
            len(held),
            counts.attempts,
            seconds,
            cost.credits,
            cost.estimate,
        )
        view = RunView(address, figures, gate, cost, True, previous=previous)
        _fill_from_record(view, record, set(quarantine), base)
        view.quarantined = held
    _attach_folder(view, attrs, base)
    return view


def _fill_from_record(view: RunView, record: RunRecord, quarantine: set[str], base: Path) -> None:
    devices = list(dict.fromkeys(c.device for c in record.cases))
    column = {device: index for index, device in enumerate(devices)}
    rows: dict[str, list[Cell | None]] = {}
    lanes = {device: DeviceLane(device) for device in devices}
    for case in record.cases:
        key = case.id
        while key in rows and rows[key][column[case.device]] is not None:  # the same test twice on a device
            key += f" [{case.unit}]"
        cells = rows.setdefault(key, [None] * len(devices))
        last = case.attempts[-1]
        links = [link(a, base) for attempt in case.attempts for a in attempt.artifacts]
        message = last.message.splitlines()[0] if last.message and case.outcome in FAILING else ""
        cells[column[case.device]] = Cell(
            cell_state(case), len(case.attempts), last.duration, case.id in quarantine, message, links
        )
    for number in sorted({a.number for c in record.cases for a in c.attempts}):
        for case in record.cases:
            for attempt in case.attempts:
                if attempt.number == number:
                    state = "fail" if attempt.outcome in FAILING else "pass" if attempt.outcome == "passed" else "skip"
                    lanes[case.device].add(attempt.duration or 0.0, state, f"{case.id} (attempt {number})")
    view.devices = devices
    view.rows = list(rows.items())
    view.lanes = list(lanes.values())
    view.failed = [c for c in record.cases if c.outcome in FAILING]
    view.flaky = record.flaky_cases()
    timed = [(c.id, c.device, c.attempts[-1].duration) for c in record.cases if c.attempts[-1].duration is not None]
    view.slowest = sorted(((i, d, s) for i, d, s in timed if s is not None), key=lambda t: -t[2])[:10]


def _attach_folder(view: RunView, attrs: dict[str, Any], base: Path) -> None:
    """The files a run downloaded to its ``artifacts.dir``: a device's sub-folder under its lane."""
    folder = (attrs.get("artifacts") or {}).get("dir") if isinstance(attrs.get("artifacts"), dict) else None
    if not folder:
        return
    found = folder_links(Path(folder), base)
    lanes = {_safe(lane.device): lane for lane in view.lanes}
    for owner, links in found.items():
        lane = lanes.get(owner)
        if lane is not None:
            lane.links.extend(links)
        elif owner:
            if not view.has_record:  # no lanes: a device's folder becomes a lane of its own, files only
                view.lanes.append(DeviceLane(owner, links=links))
            else:
                view.links.extend(Link(f"{owner}/{x.label}", x.href, x.kind) for x in links)
        else:
            view.links.extend(links)
