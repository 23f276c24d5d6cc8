"""What the history says about each test: pass rate, typical duration, and broken versus flaky.

Per commit (a run, where the commit was not known): a test is **flaky** on
it when, on one cloud and device, some attempts passed and some failed — the
same code flipped. It is **broken** on it when, on some device, every attempt
failed and it flipped on none: a real failure, which a retry will not fix.
Devices are kept apart so that a test failing every time on one model and
passing on another reads as broken there, not as flaky.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Figures:
    test_id: str
    passed: int = 0
    failed: int = 0  # failed and error attempts
    skipped: int = 0
    commits: int = 0  # commits (or runs with no commit) on which it passed or failed
    flaky_commits: int = 0
    broken_commits: int = 0
    median_duration: float | None = None
    clouds: set[str] = field(default_factory=set)

    def absorb(self, other: Figures) -> None:
        """Add the figures of the same test's other rows (a history's plain rows from before its
        encryption): counts add up; the typical duration is this part's where it has one."""
        self.passed, self.failed, self.skipped = (
            self.passed + other.passed,
            self.failed + other.failed,
            self.skipped + other.skipped,
        )
        self.commits += other.commits
        self.flaky_commits += other.flaky_commits
        self.broken_commits += other.broken_commits
        if self.median_duration is None:
            self.median_duration = other.median_duration
        self.clouds |= other.clouds

    @property
    def pass_rate(self) -> float | None:
        ran = self.passed + self.failed
        return self.passed / ran if ran else None

    @property
    def flip_rate(self) -> float:
        """The share of its commits on which it flipped: how often a red run of it means nothing."""
        return self.flaky_commits / self.commits if self.commits else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "test_id": self.test_id,
            "flip_rate": round(self.flip_rate, 4),
            "flaky_commits": self.flaky_commits,
            "broken_commits": self.broken_commits,
            "commits": self.commits,
            "pass_rate": None if self.pass_rate is None else round(self.pass_rate, 4),
            "attempts": {"passed": self.passed, "failed": self.failed, "skipped": self.skipped},
            "median_duration": self.median_duration,
            "clouds": sorted(self.clouds),
        }


@dataclass
class FlakyReport:
    """``labform tests flaky``: the flakiest tests, the broken ones, and what history the figures cover."""

    history: str
    since: datetime
    include_local: bool
    figures: dict[str, Figures]
    limit: int = 20  # 0: every flaky test

    @property
    def results(self) -> int:
        return sum(t.passed + t.failed + t.skipped for t in self.figures.values())

    @property
    def clouds(self) -> list[str]:
        return sorted({cloud for test in self.figures.values() for cloud in test.clouds})

    def flaky(self) -> list[Figures]:
        """Flakiest first: by flip rate, then by how many commits flipped, then by name (a stable order)."""
        found = [t for t in self.figures.values() if t.flaky_commits]
        found.sort(key=lambda t: (-t.flip_rate, -t.flaky_commits, t.test_id))
        return found[: self.limit] if self.limit else found

    def broken(self) -> list[Figures]:
        found = [t for t in self.figures.values() if t.broken_commits]
        return sorted(found, key=lambda t: (-t.broken_commits, t.test_id))

    def _rows(self) -> str:
        return "CI and local rows" if self.include_local else "CI rows only; --include-local adds local runs"

    def json(self) -> str:
        return json.dumps(
            {
                "format_version": "1.0",
                "history": self.history,
                "since": self.since.isoformat(),
                "sources": ["ci", "local"] if self.include_local else ["ci"],
                "results": self.results,
                "tests": len(self.figures),
                "clouds": self.clouds,
                "flaky": [t.as_json() for t in self.flaky()],
                "broken": [t.as_json() for t in self.broken()],
            },
            indent=2,
        )

    def text(self) -> str:
        since = self.since.strftime("%Y-%m-%d %H:%M UTC")
        if not self.figures:
            return (
                f"No test results in {self.history} since {since} ({self._rows()}).\n"
                "Record a run's JUnit with: labform tests record JUNIT --cloud CLOUD"
            )
        lines = [
            f"Test history: {self.results:,} results of {len(self.figures):,} tests on {', '.join(self.clouds)}, "
            f"since {since} ({self._rows()}).",
            "",
        ]
        flaky = self.flaky()
        if flaky:
            lines.append("Flaky tests (passed and failed on the same commit and device), flakiest first:")
            lines += _table(
                ("test", "flipped", "pass rate", "median", "clouds"),
                [
                    (
                        t.test_id,
                        f"{t.flaky_commits}/{t.commits} commits",
                        _percent(t.pass_rate),
                        _seconds(t.median_duration),
                        ", ".join(sorted(t.clouds)),
                    )
                    for t in flaky
                ],
            )
        else:
            lines.append("No flaky tests: none passed and failed on the same commit and device.")
        broken = self.broken()
        if broken:
            lines += ["", "Broken (failed every attempt on a commit; a retry does not help):"]
            lines += _table(
                ("test", "broken on", "pass rate", "clouds"),
                [
                    (
                        t.test_id,
                        f"{t.broken_commits}/{t.commits} commits",
                        _percent(t.pass_rate),
                        ", ".join(sorted(t.clouds)),
                    )
                    for t in broken
                ],
            )
        return "\n".join(lines)


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
