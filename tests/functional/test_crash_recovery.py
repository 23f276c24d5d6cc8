"""SIGKILL ``labform apply`` at seeded random moments; the next apply converges with one of each object.

A CI runner killed at its timeout is the case: the apply over a Bitbar plan
with a project, a device group, two uploads and a run (waited on) is killed
somewhere between its first and last request, then the user's next commands
must work. After each kill:

- the state and its journal load (``labform state list`` exits 0);
- ``labform apply`` converges (exit 0, no traceback), and ``labform plan
  --detailed-exitcode`` then finds nothing to do (exit 0);
- the emulator holds exactly one project of that name, one device group of
  that name and one run in the project, and the project has both uploads.

Everything runs through the public CLI, against ``labform sandbox`` in its
own process. The kill moments come from ``SEED``, spread over the window in
which a clean apply talks to the cloud (measured first), so a failing trial
can be replayed; ``bench/crash_stress.py`` runs 100 of them.
"""

from __future__ import annotations

import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.functional.sandbox_harness import PLANS, SandboxProcess, Trial, inventory, labform, plan_environment, start_labform

SEED = 20260
TRIALS = 10
PLAN = """
providers:
  bitbar:
    endpoint: ${env.BITBAR_URL}
    api_key: ${env.BITBAR_API_KEY}

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


def write_plan(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "main.yaml").write_text(PLAN.replace("NAME", name).replace("APPS", str(PLANS / "apps")))
    return folder


def sandbox(data_dir: Path) -> SandboxProcess:
    """A Bitbar sandbox with no faults: the kills are the only thing going wrong."""
    return SandboxProcess(data_dir, "--only", "bitbar", "--job-seconds", "1", "--seed", str(SEED))


@dataclass
class Window:
    """When, after its start, a clean apply sends its first request and gets its last answer."""

    first: float
    last: float


def measure_window(served: SandboxProcess, folder: Path) -> Window:
    """Apply the plan once, unkilled (it must converge), and read from the emulator's log when it talked."""
    before = len(served.clouds["bitbar"].requests())
    started = time.monotonic()
    clean = labform(["apply", ".", "--auto-approve"], folder, plan_environment(folder, served))
    assert clean.exit_code == 0, clean.key_lines()
    talked = served.clouds["bitbar"].requests()[before:]
    return Window(talked[0]["started"] - started, talked[-1]["finished"] - started)


@dataclass
class CrashTrial(Trial):
    index: int
    delay: float  # seconds after the apply started that it was killed
    killed: bool = False  # False: the apply had ended before the kill
    loads: bool = False
    converged: bool = False
    clean_plan: bool = False
    held: dict[str, int] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        return sum(max(0, count - 1) for count in self.held.values())


def crash_trial(served: SandboxProcess, root: Path, index: int, delay: float) -> CrashTrial:
    """Kill an apply ``delay`` seconds in, then list the state, apply again, plan, and count what Bitbar holds."""
    name = f"crash-{index}"
    folder = write_plan(root / name, name)
    environment = plan_environment(folder, served)
    trial = CrashTrial(index, delay)
    process = start_labform(["apply", ".", "--auto-approve"], folder, environment)
    time.sleep(delay)
    trial.killed = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()

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


def kill_delays(window: Window, count: int, seed: int) -> list[float]:
    """``count`` moments, drawn from ``seed``, between a clean apply's first request and its last answer."""
    rng = random.Random(seed)
    return [round(rng.uniform(window.first, window.last), 3) for _ in range(count)]


def describe(trial: CrashTrial) -> str:
    return f"trial {trial.index} (killed {trial.delay}s after the apply started):\n" + "\n".join(trial.problems)


def crash_trials(served: SandboxProcess, root: Path, kills: int, seed: int) -> list[CrashTrial]:
    """Trials until ``kills`` of them killed a running apply (a kill that lands after the end does not count)."""
    window = measure_window(served, write_plan(root / "clean", "clean"))
    trials: list[CrashTrial] = []
    for index, delay in enumerate(kill_delays(window, 2 * kills, seed)):
        trials.append(crash_trial(served, root, index, delay))
        if sum(t.killed for t in trials) == kills:
            return trials
    raise AssertionError(f"only {sum(t.killed for t in trials)} of {len(trials)} kills hit a running apply (window {window})")


def test_an_apply_killed_at_any_moment_converges_with_one_of_each_object(tmp_path):
    with sandbox(tmp_path / "sandbox") as served:
        trials = crash_trials(served, tmp_path, TRIALS, SEED)
    failed = [t for t in trials if t.problems]
    assert not failed, f"{len(failed)} of {len(trials)} trials failed (seed {SEED}):\n\n" + "\n\n".join(map(describe, failed))
