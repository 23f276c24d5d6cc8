"""The fault trial: one example plan applied against a sandbox failing a share of requests, until it converges.

tests/functional/test_fault_convergence.py runs a few seeds per example plan
(and says what each must find), bench/fault_convergence.py many, at 30% and
10% faults. The faults are the emulators' (``labform sandbox --failure-rate
RATE --seed N``), drawn from the seed, so a failing seed fails the same way
again.

A trial applies; when an apply loses a create's answer and the cloud cannot be
asked, labform holds the create as unresolved, and the next apply must refuse
("labform cannot tell whether ...") rather than send it again. The trial then
says what the emulator's store holds (``labform state resolve ADDR --id ID``
when exactly one object of the type was made during the trial, else
``--not-created``), and applies again, at most MAX_APPLIES times in all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.sandbox_harness import (
    INVENTORIES,
    Outcome,
    SandboxProcess,
    Served,
    Trial,
    duplicates,
    inventory,
    labform,
    plan_clouds,
    plan_environment,
)

RATE = 0.3
RATES = (0.3, 0.1)
# The example plans that create remote objects, and those that only read (no object to duplicate).
EXAMPLES = (
    "apptest-smoke",
    "bitbar-ci",
    "bitbar-matrix",
    "bitbar-modules",
    "bitbar-quickstart",
    "kyaraben-lab",
    "wetest-smoke",
)
READ_ONLY = ("perfecto-gate",)
# Applies per trial, the refused ones included: a lost answer, the refusal, then the apply after resolving, twice over.
MAX_APPLIES = 6
# Sends of one ``state resolve`` (its ``--id`` reads the object through the same faults).
RESOLVE_ATTEMPTS = 3
REFUSAL = "labform cannot tell whether"
_HELD = re.compile(r"labform state resolve (\S+) --not-created")
# Where the emulator keeps what a create of unknown outcome makes: the type's cloud, store collection and id field.
TRUTH = {
    "apptest_testset": ("apptest", "testsets", "testset_id"),
    "wetest_script": ("wetest", "scripts", "script_id"),
    "wetest_test": ("wetest", "tests", "test_id"),
}


def example(name: str, root: Path) -> Path:
    """An example plan under ``root`` (a copy of plans/): its folder, or a single-file plan."""
    folder = root / "plans" / name
    return folder if folder.is_dir() else folder.with_suffix(".yaml")


@dataclass
class FaultTrial(Trial):
    plan: str
    seed: int
    rate: float = RATE
    endings: list[str] = field(default_factory=list)  # each apply's: "ok", "refused" or "failed"
    converged: bool = False  # the last apply exited 0 and the plan after it was empty
    by_id: int = 0
    not_created: int = 0
    duplicated: dict[tuple, int] = field(default_factory=dict)

    @property
    def in_one_apply(self) -> bool:
        return self.converged and len(self.endings) == 1

    @property
    def after_resolving(self) -> bool:
        return self.converged and self.by_id + self.not_created > 0

    @property
    def refusals(self) -> int:
        return self.endings.count("refused")


def made_during(served: Served, before: dict[str, Any], type_name: str) -> list[str] | None:
    """The ids of the objects of ``type_name`` the emulator made since ``before`` (its store then); None
    for a type the trial cannot read the truth of."""
    if type_name not in TRUTH:
        return None
    _, collection, id_field = TRUTH[type_name]
    return [str(o[id_field]) for key, o in served.store()[collection].items() if key not in before[collection]]


class _Run:
    """One trial's commands: the plan's path and state, against one sandbox."""

    def __init__(self, root: Path, plan: Path, state: Path, served: SandboxProcess, trial: FaultTrial) -> None:
        self.root, self.plan, self.served, self.trial = root, str(plan.relative_to(root)), served, trial
        self.state = ["--state", str(state)]
        self.environment = plan_environment(plan, served)
        self.before = {cloud: served.clouds[cloud].store() for cloud in TRUTH_CLOUDS & set(served.clouds)}

    def command(self, *args: str) -> Outcome:
        outcome = labform([*args, self.plan, *self.state], self.root, self.environment)
        self.trial.note(outcome, True, "")  # only a lock left behind or a traceback is a problem here
        return outcome

    def resolve(self, address: str) -> None:
        """Say what the emulator holds for ``address``: the one object made during the trial, or nothing."""
        type_name = address.split(".")[0]
        served = self.served.clouds.get(TRUTH.get(type_name, ("",))[0])
        made = None if served is None else made_during(served, self.before[TRUTH[type_name][0]], type_name)
        if made is None:
            self.trial.problems.append(f"{address} is unresolved, and the trial cannot read its truth")
            return
        said = ["--id", made[0]] if len(made) == 1 else ["--not-created"]
        for _ in range(RESOLVE_ATTEMPTS):
            outcome = self.command("state", "resolve", address, *said)
            if outcome.exit_code == 0:
                if len(made) == 1:
                    self.trial.by_id += 1
                else:
                    self.trial.not_created += 1
                return
        self.trial.problems.append(f"{address}: state resolve failed {RESOLVE_ATTEMPTS} times\n{outcome.key_lines()}")

    def apply_until_converged(self) -> None:
        """Apply until one exits 0 (then plan), resolving what each refusal names; every failed apply
        must be followed by a refusal: it failed on a lost create's answer, and nothing was sent again."""
        failed: Outcome | None = None
        for _ in range(MAX_APPLIES):
            applied = self.command("apply", "--auto-approve")
            refused = REFUSAL in applied.output
            if failed is not None and not refused:
                self.trial.problems.append(f"an apply failed, and the next did not refuse\n{failed.key_lines()}")
            if applied.exit_code == 0:
                self.trial.endings.append("ok")
                planned = self.command("plan", "--detailed-exitcode")
                self.trial.converged = planned.exit_code == 0
                if not self.trial.converged:
                    self.trial.problems.append(f"the plan after the apply is not empty\n{planned.key_lines()}")
                return
            self.trial.endings.append("refused" if refused else "failed")
            failed = None if refused else applied
            for address in sorted(set(_HELD.findall(applied.output))) if refused else ():
                self.resolve(address)
        self.trial.problems.append(f"no convergence in {MAX_APPLIES} applies\n{applied.key_lines()}")


TRUTH_CLOUDS = {cloud for cloud, _, _ in TRUTH.values()}


def fault_trial(root: Path, name: str, seed: int, rate: float = RATE) -> FaultTrial:
    """Apply the example ``name`` (under ``root``, a copy of plans/) against a sandbox failing ``rate`` of
    requests until it converges, resolving each refused create from the emulator's store."""
    plan = example(name, root)
    trial_dir = root / "trials" / f"{name}-{rate}-{seed}"
    clouds = sorted(plan_clouds(plan))
    only = [flag for cloud in clouds for flag in ("--only", cloud)]
    trial = FaultTrial(name, seed, rate)
    with SandboxProcess(
        trial_dir / "sandbox", *only, "--failure-rate", str(rate), "--seed", str(seed), "--job-seconds", "1"
    ) as served:
        _Run(root, plan, trial_dir / "labform.state.json", served, trial).apply_until_converged()
        for cloud in set(clouds) & set(INVENTORIES):
            trial.duplicated |= duplicates(inventory(cloud, served.clouds[cloud].store()))
    if trial.duplicated:
        trial.problems.append(f"duplicate remote objects (key: extra copies): {trial.duplicated}")
    return trial
