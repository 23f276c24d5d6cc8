"""At 30% faults of every kind, each example plan converges in ONE apply, with no duplicate and no traceback.

The faults are the emulators' (``labform sandbox --failure-rate 0.3``, every
kind: 429, 500 and dropped connections before the cloud acts; 500, dropped
connections and malformed 200 bodies after it acted), drawn from a seed, so a
failing seed fails the same way again. For each example plan and seed, against
a fresh sandbox in its own process:

- ``labform apply --auto-approve`` exits 0, and ``labform plan
  --detailed-exitcode`` (at the same fault rate) then exits 0;
- neither prints a traceback or ``internal error``;
- the emulator holds no two objects with the same natural key.

``bench/fault_convergence.py`` runs 20 seeds per plan and prints the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.functional.sandbox_harness import (
    INVENTORIES,
    PLANS,
    SandboxProcess,
    Trial,
    copy_examples,
    duplicates,
    inventory,
    labform,
    plan_clouds,
    plan_environment,
)

RATE = 0.3
SEEDS = (11, 23, 37)
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


@pytest.fixture(scope="module")
def examples_copy(tmp_path_factory) -> Path:
    return copy_examples(tmp_path_factory.mktemp("examples"))


def test_every_example_plan_is_classified():
    """A new example plan must join EXAMPLES (and its cloud INVENTORIES) or READ_ONLY, so none escapes this test."""
    shipped = {
        path.stem for path in PLANS.iterdir() if path.name != "apps" and (path.is_dir() or path.suffix == ".yaml")
    }
    assert shipped == set(EXAMPLES) | set(READ_ONLY)
    for name in EXAMPLES:
        assert plan_clouds(example(name, PLANS.parent)) <= set(INVENTORIES), name


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_an_example_converges_in_one_apply_at_30_percent_faults(examples_copy, name, seed):
    trial = fault_trial(examples_copy, name, seed)
    assert not trial.problems, f"{name}, seed {seed}, {RATE:.0%} faults:\n" + "\n\n".join(trial.problems)
