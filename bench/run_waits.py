"""How often labform reads the status of runs it waits on, once they have gone on for minutes.

RUNS Bitbar runs over PROJECTS projects are started by one apply and waited on
(``wait: {timeout: 2h}``, the default poll). The emulator, in its own process,
keeps them running (its clock stands still until the end); labform's waits run
in this process on a clock WARP times faster than the wall (the polling
module's ``_now`` and ``_pause``), so ten minutes of waiting take ten seconds.
Every status read the emulator logs is placed on that clock: the figure is the
reads per run per minute from minute 5 to minute 10 (goal: at most 4), and the
reads per minute for all the runs together.

    python bench/run_waits.py [RUNS] [PROJECTS] [WARP]
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

from emulated import BITBAR, EmulatorProcess, labform
from table import Row, markdown

from labform.engine import runner
from labform.engine.options import PlanOptions
from labform.providers import polling

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "plans" / "apps" / "sample-app.apk"


def setup_text(projects: int) -> str:
    blocks = ""
    for j in range(projects):
        blocks += (
            f"  bitbar_project.p{j}:\n    name: runs-{j}\n    type: ANDROID\n"
            f"  bitbar_device_group.g{j}:\n    name: phones-{j}\n    os_type: ANDROID\n    devices: [304]\n"
            f"  bitbar_project_config.c{j}:\n    project: ${{bitbar_project.p{j}.id}}\n    mode: APP_CRAWLER\n"
            f"    used_device_group: ${{bitbar_device_group.g{j}.id}}\n"
            f"  bitbar_file.a{j}:\n    project: ${{bitbar_project.p{j}.id}}\n    kind: application\n    path: {APP}\n"
        )
    return BITBAR + "resources:\n" + blocks


def runs_text(runs: int, projects: int) -> str:
    blocks = "".join(
        f"  bitbar_run.r{i}:\n    project: ${{bitbar_project.p{i % projects}.id}}\n    name: run-{i}\n"
        f"    depends_on: [bitbar_project_config.c{i % projects}, bitbar_file.a{i % projects}]\n    wait: {{timeout: 2h}}\n"
        for i in range(runs)
    )
    return setup_text(projects) + blocks


class Warp:
    """A clock ``factor`` times faster than time.monotonic, and pauses that short."""

    def __init__(self, factor: float):
        self.factor = factor
        self.start = time.monotonic()

    def virtual(self, real: float) -> float:
        return (real - self.start) * self.factor

    def now(self) -> float:
        return self.start + self.virtual(time.monotonic())

    def pause(self, seconds: float, stop: threading.Event | None) -> None:
        (stop.wait if stop else time.sleep)(seconds / self.factor)


def waiting_on_runs(runs: int = 50, projects: int = 10, warp: float = 60.0) -> list[Row]:
    with EmulatorProcess("bitbar", job_seconds=3600) as cloud, tempfile.TemporaryDirectory() as folder:
        Path(folder, "main.yaml").write_text(setup_text(projects))
        labform(cloud, "apply", folder, "--auto-approve")
        Path(folder, "main.yaml").write_text(runs_text(runs, projects))
        before = len(cloud.requests())
        clock = Warp(warp)
        with (
            mock.patch.object(polling, "_now", clock.now),
            mock.patch.object(polling, "_pause", clock.pause),
            mock.patch.dict("os.environ", cloud.environment()),
        ):
            workspace = runner.Workspace(Path(folder))
            applying = threading.Thread(target=runner.apply, args=(workspace, PlanOptions(parallelism=runs + 10)))
            applying.start()
            time.sleep(10.5 * 60 / warp)
            cloud.advance(7200)  # every run finishes now
            applying.join(timeout=120)
        reads = [r for r in cloud.requests()[before:] if r["method"] == "GET" and "/runs" in r["path"]]
    window = [r for r in reads if 300 <= clock.virtual(r["started"]) < 600]
    per_run = len(window) / runs / 5
    return [
        Row(
            f"waiting on {runs} runs of {projects} projects, minutes 5 to 10 of their wait",
            "≤ 4 calls per run per minute",
            f"{per_run:.2f} calls per run per minute ({len(window) / 5:.0f} a minute for all {runs}); {len(reads)} status reads in all",
            per_run <= 4,
        )
    ]


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    print(markdown(waiting_on_runs(*(int(a) for a in args[:2]), *args[2:3])))
