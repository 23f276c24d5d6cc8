"""SIGKILL ``labform apply`` at seeded random moments; the next apply converges with one of each object.

A CI runner killed at its timeout is the case: the apply over a Bitbar plan
with a project, a device group, two uploads and a run (waited on) is killed
while it makes its changes, then the user's next commands must work. After
each kill:

- the state and its journal load (``labform state list`` exits 0);
- ``labform apply`` converges (exit 0, no traceback), and ``labform plan
  --detailed-exitcode`` then finds nothing to do (exit 0);
- the emulator holds exactly one project of that name, one device group of
  that name and one run in the project, and the project has both uploads.

Everything runs through the public CLI, against ``labform sandbox`` in its
own process. The kill moments come from ``SEED``: after which of the progress
lines a clean apply prints (counted first), and up to ``MAX_DELAY`` later, so
they land where they were drawn on a busy machine too and a failing trial
can be replayed; ``bench/crash_stress.py`` runs 100 of them.
"""

from __future__ import annotations

from bench.crash_trials import SEED, crash_trials, describe, sandbox

TRIALS = 10


def test_an_apply_killed_at_any_moment_converges_with_one_of_each_object(tmp_path):
    with sandbox(tmp_path / "sandbox") as served:
        trials = crash_trials(served, tmp_path, TRIALS, SEED)
    failed = [t for t in trials if t.problems]
    assert not failed, f"{len(failed)} of {len(trials)} trials failed (seed {SEED}):\n\n" + "\n\n".join(
        map(describe, failed)
    )
