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

from pathlib import Path

import pytest

from bench.fault_trials import EXAMPLES, RATE, READ_ONLY, example, fault_trial
from bench.sandbox_harness import INVENTORIES, PLANS, copy_examples, plan_clouds

SEEDS = (11, 23, 37)


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
