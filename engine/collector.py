"""The garbage collector tuned for a short-lived command whose objects live until it exits.

A plan of thousands of resources builds a large heap (the plan files, the
configuration, state, what the cloud said, the changes) that stays alive to
the end. With the default thresholds the collector walks all of it again and
again while planning, and the interpreter's own collections at exit walk it
once more before freeing it: a third of a large unchanged plan's wall time,
measured in bench/ (run_all.py, "plan of 5,000 unchanged resources").

Young objects are collected less often (they rarely form cycles here), and the
heap is frozen when the command is done, so exit only frees it. Only a process
of its own (the ``labform`` command) does this; tests calling the CLI in
process keep the defaults.
"""

from __future__ import annotations

import atexit
import gc

# Allocations between two young-generation collections (the default is 700), and how many of
# those before an older generation is walked (defaults 10 and 10).
YOUNG_THRESHOLD = 50_000
OLDER_THRESHOLDS = (20, 20)


def tune_for_a_short_command() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    atexit.register(gc.freeze)  # atexit runs before the interpreter's final collections
