"""The fault trial: one example plan applied (then planned) against a sandbox failing a share of requests.

tests/functional/test_fault_convergence.py runs 3 seeds per example plan (and
says what each must find), bench/fault_convergence.py 20. The faults are the
emulators' (``labform sandbox --failure-rate RATE --seed N``), drawn from the
seed, so a failing seed fails the same way again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.sandbox_harness import (
    SandboxProcess,
    Trial,
    duplicates,
    inventory,
    labform,
    plan_clouds,
    plan_environment,
)

RATE = 0.3
# The example plans that create remote objects, and those that only read (no object to duplicate).
EXAMPLES = ("apptest-smoke", "bitbar-ci", "bitbar-quickstart", "kyaraben-lab", "wetest-smoke")
READ_ONLY = ("perfecto-gate",)


def example(name: str, root: Path) -> Path:
    """An example plan under ``root`` (a copy of plans/): its folder, or a single-file plan."""
    folder = root / "plans" / name
    return folder if folder.is_dir() else folder.with_suffix(".yaml")


@dataclass
class FaultTrial(Trial):
    plan: str
    seed: int
    applied: bool = False
    clean_plan: bool = False
    duplicated: dict[tuple, int] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        return self.applied and self.clean_plan


def fault_trial(root: Path, name: str, seed: int, rate: float = RATE) -> FaultTrial:
    """One apply and one plan of the example ``name`` (under ``root``, a copy of plans/) against a sandbox failing ``rate`` of requests."""
    plan = example(name, root)
    trial_dir = root / "trials" / f"{name}-{seed}"
    clouds = sorted(plan_clouds(plan))
    only = [flag for cloud in clouds for flag in ("--only", cloud)]
    trial = FaultTrial(name, seed)
    with SandboxProcess(
        trial_dir / "sandbox", *only, "--failure-rate", str(rate), "--seed", str(seed), "--job-seconds", "1"
    ) as served:
        environment = plan_environment(plan, served)
        state = ["--state", str(trial_dir / "labform.state.json")]
        applied = labform(["apply", str(plan.relative_to(root)), "--auto-approve", *state], root, environment)
        trial.applied = trial.note(applied, applied.exit_code == 0, f"the apply failed at {rate:.0%} faults")
        planned = labform(["plan", str(plan.relative_to(root)), "--detailed-exitcode", *state], root, environment)
        trial.clean_plan = trial.note(planned, planned.exit_code == 0, "the plan after the apply is not empty")
        for cloud in clouds:
            trial.duplicated |= duplicates(inventory(cloud, served.clouds[cloud].store()))
    if trial.duplicated:
        trial.problems.append(f"duplicate remote objects (key: extra copies): {trial.duplicated}")
    return trial
