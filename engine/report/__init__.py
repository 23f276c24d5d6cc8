"""Reports people look at: one HTML page of a plan's runs, its Markdown summary, the figures kept.

    labform report plans/ci -o report.html      # report.html, report.md, report.json
    labform apply plans/ci --report reports/    # reports/report.html, .md, .json after the apply

Everything is read from state (each run's entry and its canonical record,
providers/run_record.py) and, after an apply, from its outcome (the plan's
estimate, how long each run took, the gate's verdict), so a report counts
exactly what JUnit and ``-json`` count. ``report.json`` keeps the figures, so
the next report shows the previous run's beside them.

    model.py     RunView: figures, matrix, per-device timeline, artifacts of one run
    cost.py      credits used: price × devices × minutes, beside the plan's estimate
    previous.py  the figures kept beside a report, the previous run's among them
    markdown.py  the summary as Markdown (report.md, and the lists in the CI step summary)
    html.py      the page, from templates/ (jinja2), CSS and JS inlined
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labform.engine.addresses import Address
from labform.engine.arguments import resource_type
from labform.engine.errors import LabformError
from labform.engine.report import previous
from labform.engine.report.cost import RunCost, run_cost
from labform.engine.report.model import Figures, RunView, build_view
from labform.providers.base import RunFacts
from labform.providers.run_record import RunRecord

if TYPE_CHECKING:
    from labform.engine.outcomes import ApplyOutcome, RunOutcome
    from labform.engine.state import State

REPORT = "report.html"


def gate_word(facts: RunFacts) -> str:
    """The gate's verdict in words, from what state records (an apply's outcome says more)."""
    if facts.finished is False:
        return "not finished"
    return {True: "passed", False: "missed", None: "no gate"}[facts.gate]


@dataclass(frozen=True)
class _Found:
    facts: RunFacts
    cost: RunCost
    seconds: float | None
    gate: str
    previous: Figures | None


def _runs(state: State, outcome: ApplyOutcome | None, kept: dict[str, previous.Kept]) -> dict[str, _Found]:
    """Every run in state: its facts, cost, duration and gate, from the apply where it carried the run
    out, else from the figures kept beside the last report of the same run."""
    applied: dict[str, RunOutcome] = {run.outcome.address: run for run in outcome.runs} if outcome else {}
    found = {}
    for address, item in sorted(state.resources.items()):
        facts = resource_type(Address.parse(address)).facts(item.attributes)
        if facts is None:
            continue
        run, run_id = applied.get(address), str(item.attributes.get("id", ""))
        same = previous.same_run(kept.get(address), run_id)
        seconds = run.seconds if run else same.seconds if same else None
        estimate = run.outcome.change.note if run else same.estimate if same else None
        raw = item.attributes.get("record")
        cost = run_cost(
            facts.credits,
            device_set_price(state, item.dependencies),
            facts.devices,
            RunRecord.from_json(raw) if raw is not None else None,
            seconds,
            estimate,
        )
        gate = run.gate if run else gate_word(facts)
        found[address] = _Found(facts, cost, seconds, gate, previous.earlier(kept.get(address), run_id))
    return found


def device_set_price(state: State, dependencies: list[str]) -> float | None:
    """The first credits price a run's dependencies have, as their resource types read it (None: unpriced)."""
    for dependency in dependencies:
        address = Address.parse(dependency)
        if dependency in state.resources and not address.is_data:
            price = resource_type(address).credits_price(state.resources[dependency].attributes)
            if price is not None:
                return price
    return None


def views(state: State, base: Path, outcome: ApplyOutcome | None = None, kept: Path | None = None) -> list[RunView]:
    """Every run state holds, as the report shows it; ``kept``: the figures file of the last report."""
    before = previous.read(kept) if kept is not None else {}
    return [
        build_view(address, state.resources[address].attributes, f.facts, f.gate, f.cost, f.seconds, base, f.previous)
        for address, f in _runs(state, outcome, before).items()
    ]


def write(target: Path, title: str, shown: list[RunView]) -> list[Path]:
    """The HTML page at ``target``, its Markdown and kept figures beside it (same name, .md and .json)."""
    from labform.engine import diskwrite
    from labform.engine.report import html, markdown

    written = []
    for path, text in (
        (target, html.render(title, shown)),
        (target.with_suffix(".md"), markdown.summary(title, shown)),
    ):
        diskwrite.replace(path, text, "the report is not written", LabformError, 0o644)
        written.append(path)
    kept = target.with_suffix(".json")
    previous.write(kept, {v.address: previous.Kept(v.figures, v.previous) for v in shown})
    return [*written, kept]
