"""labform's exit codes, in one table: the CLI exits with these names and docs/exit-codes.md is
generated from ``TABLE``, so the documented codes and the ones used cannot drift apart.

CI scripts branch on them (``plan -detailed-exitcode || test $? -eq 2``), which is why a usage
error is 1, never click's 2.
"""

from __future__ import annotations

from typing import NamedTuple

from labform.engine.interrupts import EXIT_CODES as SIGNAL_EXIT_CODES

OK = 0
ERROR = 1
CHANGES = 2
NEEDS_FORMATTING = 3


class ExitCode(NamedTuple):
    code: int
    meaning: str
    when: str


TABLE: tuple[ExitCode, ...] = (
    ExitCode(
        OK,
        "success",
        "the command did what it was asked; `plan` found no changes, or changes without `-detailed-exitcode`",
    ),
    ExitCode(
        ERROR,
        "error",
        "a bad plan file, a mistyped option or argument, a cloud or state error, a refused approval, "
        "or an `apply` whose change failed or whose check (a gate) fails",
    ),
    ExitCode(
        CHANGES,
        "changes present",
        "`plan -detailed-exitcode` only: the plan changes something (drift included); a check, failing or not, is no change",
    ),
    ExitCode(NEEDS_FORMATTING, "needs formatting", "`fmt -check` only: a file is not in the canonical layout"),
    ExitCode(
        SIGNAL_EXIT_CODES["SIGINT"],
        "interrupted (SIGINT)",
        "Ctrl-C during an `apply` or `destroy`: calls in flight finished and were recorded first",
    ),
    ExitCode(
        SIGNAL_EXIT_CODES["SIGTERM"],
        "terminated (SIGTERM)",
        "a CI runner cancelled an `apply` or `destroy`: calls in flight finished and were recorded first",
    ),
)
