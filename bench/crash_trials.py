"""The crash trial: SIGKILL ``labform apply`` at a seeded moment, then see what the next commands make of it.

tests/functional/test_crash_recovery.py runs 10 of them (and says what each
must find), bench/crash_stress.py many more. The plan is a Bitbar project, a
device group, a project config, two uploads and a run waited on, applied
through the public CLI against ``labform sandbox`` in its own process.
"""

from __future__ import annotations

import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.emulated import BITBAR
from bench.sandbox_harness import (
    PLANS,
    SandboxProcess,
    Trial,
    inventory,
    labform,
    plan_environment,
    start_labform,
)

SEED = 20260
# A kill comes up to this long after the progress line it follows: between two lines, or inside a request.
MAX_DELAY = 0.25
PLAN = (
    BITBAR
    + """
resources:
  bitbar_project.app:
    name: NAME
    type: ANDROID
  bitbar_device_group.phones:
    name: NAME phones
    os_type: ANDROID
    devices: [304, 321]
  bitbar_project_config.app:
    project: ${bitbar_project.app.id}
    mode: FULL_RUN
    used_device_group: ${bitbar_device_group.phones.id}
  bitbar_file.app:
    project: ${bitbar_project.app.id}
    kind: application
    path: APPS/sample-app.apk
  bitbar_file.tests:
    project: ${bitbar_project.app.id}
    kind: test
    path: APPS/sample-app-tests.apk
  bitbar_run.smoke:
    project: ${bitbar_project.app.id}
    name: smoke
    depends_on: [bitbar_project_config.app]
    triggers:
      - ${bitbar_file.app.sha256}
      - ${bitbar_file.tests.sha256}
    wait: {timeout: 60s, poll: 1s}
"""
)


def write_plan(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "main.yaml").write_text(PLAN.replace("NAME", name).replace("APPS", str(PLANS / "apps")))
    return folder


def sandbox(data_dir: Path) -> SandboxProcess:
    """A Bitbar sandbox with no faults: the kills are the only thing going wrong."""
    return SandboxProcess(data_dir, "--only", "bitbar", "--job-seconds", "1", "--seed", str(SEED))


def progress_lines(served: SandboxProcess, folder: Path) -> int:
    """Apply the plan once, unkilled (it must converge): how many progress lines it prints between its plan and its summary."""
    clean = labform(["apply", ".", "--auto-approve"], folder, plan_environment(folder, served))
    assert clean.exit_code == 0, clean.key_lines()
    lines = clean.output.splitlines()
    planned = next(i for i, line in enumerate(lines) if line.startswith("Plan:"))
    return (
        next(i for i, line in enumerate(lines) if line.startswith("Apply complete!")) - planned - 2
    )  # less the blank line before it


def kill_after(process: subprocess.Popen, line: int, delay: float) -> bool:
    """SIGKILL an apply ``delay`` seconds after its ``line``-th progress line (0: right after its plan); whether it was still running.

    Counting its own output, not the clock, keeps the moments where they were
    meant to be when the machine is slower or busier than when they were drawn.
    """
    for text in iter(process.stdout.readline, ""):
        if text.startswith("Plan:"):
            break
    for _ in range(line):
        if not process.stdout.readline():
            break
    time.sleep(delay)
    running = process.poll() is None
    process.kill()
    process.wait()
    process.stdout.close()
    return running


@dataclass
class CrashTrial(Trial):
    index: int
    line: int  # killed ``delay`` seconds after this progress line of the apply
    delay: float
    killed: bool = False  # False: the apply had ended before the kill
    loads: bool = False
    converged: bool = False
    clean_plan: bool = False
    held: dict[str, int] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        return sum(max(0, count - 1) for count in self.held.values())


def crash_trial(served: SandboxProcess, root: Path, index: int, line: int, delay: float) -> CrashTrial:
    """Kill an apply ``delay`` seconds after its ``line``-th progress line, then list the state, apply again, plan, and count what Bitbar holds."""
    name = f"crash-{index}"
    folder = write_plan(root / name, name)
    environment = plan_environment(folder, served)
    trial = CrashTrial(index=index, line=line, delay=delay)
    trial.killed = kill_after(start_labform(["apply", ".", "--auto-approve"], folder, environment), line, delay)

    listed = labform(["state", "list", "."], folder, environment)
    trial.loads = trial.note(listed, listed.exit_code == 0, "state list after the kill failed")
    again = labform(["apply", ".", "--auto-approve"], folder, environment)
    trial.converged = trial.note(again, again.exit_code == 0, "the re-apply did not converge")
    plan = labform(["plan", ".", "--detailed-exitcode"], folder, environment)
    trial.clean_plan = trial.note(plan, plan.exit_code == 0, "the plan after the re-apply is not empty")

    store = served.clouds["bitbar"].store()
    held = inventory("bitbar", store)
    projects = [p for p in store["projects"].values() if p["name"] == name]
    trial.held = {
        "project": held[("bitbar project", name)],
        "device group": held[("bitbar device group", f"{name} phones")],
        "run": sum(held[("bitbar run of project", p["id"])] for p in projects),
    }
    if trial.held != {"project": 1, "device group": 1, "run": 1}:
        trial.problems.append(f"Bitbar holds {trial.held} (want one of each)")
    elif not all(projects[0]["files"].get(kind) for kind in ("application", "test")):
        trial.problems.append(f"project {name} lacks an upload: {projects[0]['files']}")
    return trial


def kill_moments(lines: int, count: int, seed: int) -> list[tuple[int, float]]:
    """``count`` moments drawn from ``seed``: after which progress line of the apply (before the last), and how long after."""
    rng = random.Random(seed)
    return [(rng.randrange(lines), round(rng.uniform(0, MAX_DELAY), 3)) for _ in range(count)]


def describe(trial: CrashTrial) -> str:
    return f"trial {trial.index} (killed {trial.delay}s after progress line {trial.line}):\n" + "\n".join(
        trial.problems
    )


def crash_trials(served: SandboxProcess, root: Path, kills: int, seed: int) -> list[CrashTrial]:
    """Trials until ``kills`` of them killed a running apply (a kill that lands after the end does not count)."""
    lines = progress_lines(served, write_plan(root / "clean", "clean"))
    trials: list[CrashTrial] = []
    for index, (line, delay) in enumerate(kill_moments(lines, 2 * kills, seed)):
        trials.append(crash_trial(served, root, index, line, delay))
        if sum(t.killed for t in trials) == kills:
            return trials
    raise AssertionError(
        f"only {sum(t.killed for t in trials)} of {len(trials)} kills hit a running apply ({lines} progress lines)"
    )
