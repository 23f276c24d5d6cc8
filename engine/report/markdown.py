"""The report's summary as Markdown: a pull-request comment (``report.md``), and the lists the CI
step summary adds below its runs table (engine/ci.py), worded once, here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from labform.engine.report.model import RunView
from labform.providers.run_record import CaseRecord

LISTED = 20  # cases named per list; the rest are counted


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _was(now: float | None, before: float | None) -> str:
    """``12 (was 10)``: a figure beside the previous run's."""
    if before is None or now == before:
        return _n(now)
    return f"{_n(now)} (was {_n(before)})"


def _named(cases: Sequence[CaseRecord], say: str = "") -> str:
    shown = [f"`{c.id}` on {c.device}" + (f" ({c.outcome})" if say else "") for c in cases[:LISTED]]
    more = f", and {len(cases) - LISTED} more" if len(cases) > LISTED else ""
    return ", ".join(shown) + more


def case_lists(views: Iterable[RunView]) -> str:
    """Failed, flaky and quarantined test cases of every run, a line each where there are any."""
    lines = []
    for view in views:
        if view.failed:
            lines.append(f"- `{view.address}` **failed** ({len(view.failed)}): {_named(view.failed)}")
        if view.flaky:
            lines.append(
                f"- `{view.address}` **flaky** ({len(view.flaky)}, failed then passed; counted as passed): "
                f"{_named(view.flaky)}"
            )
        if view.quarantined:
            lines.append(
                f"- `{view.address}` **quarantined** ({len(view.quarantined)}, reported, never failing the gate): "
                f"{_named(view.quarantined, 'outcome')}"
            )
    return "\n".join(lines)


def _row(view: RunView) -> list[str]:
    now, before = view.figures, view.previous

    def beside(name: str) -> str:
        return _was(getattr(now, name), getattr(before, name) if before else None)

    return [
        f"`{view.address}`",
        *(beside(name) for name in ("devices", "tests", "passed", "failed", "flaky")),
        _n(now.quarantined),
        _n(now.attempts),
        view.cost.cell() or "—",
        view.gate,
    ]


def summary(title: str, views: Sequence[RunView]) -> str:
    """The whole summary: a table of the runs (the previous run's figure beside each that changed), then the lists."""
    header = ["run", "devices", "tests", "passed", "failed", "flaky", "quarantined", "attempts", "credits", "gate"]
    lines = [f"### {title}", ""]
    if not views:
        return "\n".join([*lines, "No runs in state."]) + "\n"
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in _row(view)) + " |" for view in views]
    listed = case_lists(views)
    return "\n".join(lines) + ("\n\n" + listed if listed else "") + "\n"
