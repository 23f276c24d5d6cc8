"""Every example plan on every named doc variant of its cloud: apply, plan again, destroy, and what is left.

The sandbox is a rehearsal only if a plan's whole life works on each reading of
the doc the emulator offers (``providers/CLOUD/emulator/variants.py``). Per
(plan, variant): a fresh ``labform sandbox --only CLOUD --variant CLOUD=NAME``
in its own process (bench/sandbox_harness.py), then the public CLI: ``apply
--auto-approve``, ``plan --detailed-exitcode`` (0: nothing to change), ``destroy
--auto-approve``; then the emulator's store, read through its inspection
endpoint, is counted by natural key (the harness's inventories) against its
count before the apply: what is still held is left over. A plan of several
clouds would get one row per variant of each, the others on their default
(every example plan names one cloud); the objects of all its clouds are counted.
perfecto-gate makes no remote object, so it has no inventory (its counts read ``-``).

    python bench/variant_destroy.py [JOBS] [PLAN,PLAN...]

JOBS pairs run at once (default 2), each in its own copy of plans/. Prints a
Markdown table (the figures in bench/README.md), then, per (plan, variant), each
command that exited otherwise than expected, with its key lines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the bench package

from bench.fault_trials import example  # noqa: E402
from bench.sandbox_harness import (  # noqa: E402
    INVENTORIES,
    PLANS,
    SandboxProcess,
    Trial,
    copy_examples,
    inventory,
    labform,
    plan_clouds,
    plan_environment,
)
from labform.providers.emulation.sandbox import variants_of  # noqa: E402

# Every example plan: each folder of plans/ holding a plan (plans/apps holds the apps they upload).
EXAMPLE_PLANS = tuple(
    sorted(folder.name for folder in PLANS.iterdir() if folder.is_dir() and any(folder.glob("*.yaml")))
)
# What a destroy leaves on the cloud by design (the example plans set no on_destroy), with where that is said.
KEPT_BY_DESIGN = {
    "wetest test of project": "WeTest has no call to delete a test (wetest_test on_destroy, providers/wetest/runs.py)",
    "apptest testset": "apptest.ai has no call to delete a testset (apptest_testset on_destroy, providers/apptest/runs.py)",
    "kyaraben campaign of project": "kept unless on_destroy: delete (providers/kyaraben/runs.py, teardown.py)",
}
# The commands of a pair; each must exit 0 (the plan: no change after the apply) unless listed below.
STEPS = (("apply", "--auto-approve"), ("plan", "--detailed-exitcode"), ("destroy", "--auto-approve"))
# (plan, step) -> the exit code it gives by design, and why (none since gates are checks, not changes).
EXPECTED_EXITS: dict[tuple[str, str], tuple[int, str]] = {}


@dataclass(kw_only=True)
class VariantTrial(Trial):
    plan: str
    cloud: str
    variant: str
    exits: list[int] = field(default_factory=list)  # apply, plan, destroy
    # Remote objects by kind (the natural key's first part): those the apply made, those the destroy left;
    # None where the cloud has no inventory.
    made: Counter | None = None
    leftovers: Counter | None = None

    def unexpected(self) -> Counter | None:
        """What the destroy left that it should have deleted."""
        if self.leftovers is None:
            return None
        return Counter({kind: n for kind, n in self.leftovers.items() if kind not in KEPT_BY_DESIGN})

    def row(self) -> str:
        kept = None if self.leftovers is None else self.leftovers - (self.unexpected() or Counter())
        counted = [_objects(self.made), _objects(kept), _objects(self.unexpected())]
        return f"| {self.plan} | {self.variant} | " + " | ".join([*map(str, self.exits), *counted]) + " |"


def _objects(kinds: Counter | None) -> str:
    if kinds is None:
        return "-"
    return ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none"


def _new_kinds(now: Counter, before: Counter) -> Counter:
    """How many objects of each kind ``now`` holds that ``before`` did not."""
    kinds: Counter = Counter()
    for key, count in (now - before).items():
        kinds[key[0]] += count
    return kinds


def variant_trial(root: Path, name: str, cloud: str, variant: str) -> VariantTrial:
    """Apply, plan and destroy the example ``name`` (under ``root``, a copy of plans/) on ``cloud`` read as ``variant``."""
    plan = example(name, root)
    trial_dir = root / "trials" / f"{name}-{variant}"
    clouds = sorted(plan_clouds(plan))
    only = [flag for served in clouds for flag in ("--only", served)]
    trial = VariantTrial(plan=name, cloud=cloud, variant=variant)
    counted = [served for served in clouds if served in INVENTORIES]
    with SandboxProcess(
        trial_dir / "sandbox", *only, "--variant", f"{cloud}={variant}", "--job-seconds", "1"
    ) as sandbox:

        def held() -> Counter:
            return sum((inventory(c, sandbox.clouds[c].store()) for c in counted), Counter())

        before = held() if counted else None
        environment = plan_environment(plan, sandbox)
        state = ["--state", str(trial_dir / "labform.state.json")]
        for step in STEPS:  # each step whatever the one before gave: a destroy cleans up after a failed apply too
            outcome = labform([*step, str(plan.relative_to(root)), *state], root, environment)
            trial.exits.append(outcome.exit_code)
            expected = EXPECTED_EXITS.get((name, step[0]), (0, ""))[0]
            trial.note(
                outcome,
                outcome.exit_code == expected,
                f"{name} on {cloud}={variant}: {step[0]} exited {outcome.exit_code} (expected {expected})",
            )
            if before is not None and step[0] == "apply":
                trial.made = _new_kinds(held(), before)
        if before is not None:
            trial.leftovers = _new_kinds(held(), before)
    if trial.unexpected():
        trial.problems.append(f"{name} on {cloud}={variant}: the destroy left {_objects(trial.unexpected())}")
    return trial


def pairs(plans: tuple[str, ...], root: Path) -> list[tuple[str, str, str]]:
    """(plan, cloud, variant) for every named variant of every cloud each plan uses."""
    return [
        (name, cloud, variant)
        for name in plans
        for cloud in sorted(plan_clouds(example(name, root)))
        for variant in sorted(variants_of(cloud))
    ]


def main(jobs: int, plans: tuple[str, ...]) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cases = pairs(plans, copy_examples(root / "listing"))

        def run(index: int, case: tuple[str, str, str]) -> VariantTrial:
            return variant_trial(copy_examples(root / f"copy-{index}"), *case)

        with ThreadPoolExecutor(jobs) as pool:
            done = list(pool.map(run, range(len(cases)), cases))
    print(f"variant destroy: {len(done)} (plan, variant) pairs, {time.monotonic() - started:.0f}s\n")
    print("| plan | variant | apply | plan | destroy | made by the apply | kept by design | left over, unexpected |")
    print("| --- | --- | ---: | ---: | ---: | --- | --- | --- |")
    for trial in done:
        print(trial.row())
    print("\nkept by design: " + "; ".join(f"{kind}: {why}" for kind, why in KEPT_BY_DESIGN.items()))
    print(
        "exit codes by design: "
        + "; ".join(f"{p} {step} {code}: {why}" for (p, step), (code, why) in EXPECTED_EXITS.items())
    )
    failed = [t for t in done if t.problems]
    print(f"\npairs with an unexpected exit code, a traceback or an unexpected leftover: {len(failed)}")
    for trial in failed:
        for problem in trial.problems:
            print(f"\n{problem}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Every example plan on every doc variant: apply, plan, destroy.")
    parser.add_argument("jobs", nargs="?", type=int, default=2, help="pairs at once [2]")
    parser.add_argument("plans", nargs="?", default=",".join(EXAMPLE_PLANS), help="example plans, comma-separated")
    args = parser.parse_args()
    chosen = tuple(args.plans.split(","))
    unknown = set(chosen) - set(EXAMPLE_PLANS)
    if unknown:
        parser.error(f"no example plan {', '.join(sorted(unknown))} (known: {', '.join(EXAMPLE_PLANS)})")
    main(args.jobs, chosen)
