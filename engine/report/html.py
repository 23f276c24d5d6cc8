"""The report as one HTML file: jinja2 templates shipped with the package, CSS and JS inlined,
nothing fetched from the network, every value escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import jinja2

from labform.engine.report.model import Cell, RunView
from labform.engine.version import labform_version

# The figures table's rows: a Figures field, and how the page names it.
FIGURES = (
    ("devices", "devices"),
    ("tests", "tests"),
    ("passed", "passed"),
    ("failed", "failed"),
    ("flaky", "flaky"),
    ("skipped", "skipped"),
    ("quarantined", "quarantined"),
    ("attempts", "attempts"),
    ("seconds", "duration"),
    ("credits", "credits used"),
    ("estimate", "plan's estimate"),
)


def _figure(value: Any, name: str) -> str:
    if value is None or value == "":
        return "—"
    if name == "seconds":
        return f"{value:.1f}s"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bad(cell: Cell | None) -> bool:
    return cell is not None and cell.state in ("fail", "flaky")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("labform.engine.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["figure"] = _figure
    env.tests["bad"] = _bad
    return env


def render(title: str, views: Sequence[RunView]) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title,
        runs=views,
        figure_names=FIGURES,
        version=labform_version(),
        written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
