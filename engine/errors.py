"""Errors the engine reports to a user: each says where and what, never a traceback.

Every error labform raises on purpose derives from one root, so the CLI
catches one class (engine/cli.py ``handle_errors``) and prints "Error: ...":

    LabformError                 providers/errors.py   the root; lives in the bottom layer so providers reach it
    ├── ConfigError              engine/errors.py      a plan file is wrong (carries file:line:col)
    │   ├── CycleError           engine/errors.py      the dependency graph has a cycle
    │   └── ExpressionError      engine/expressions/errors.py  a ${...} that cannot be parsed or evaluated (a ValueError too)
    ├── ConfigErrors             engine/errors.py      several ConfigErrors found in one pass, all shown at once
    ├── StateError               engine/errors.py      the state file/database cannot be read or written
    │   └── StateLockedError     engine/errors.py      another process holds the state lock
    ├── PlanRefusedError         engine/errors.py      a saved plan no longer matches state or files
    ├── AmbiguousRecovery        engine/recovery.py    an interrupted create may have made any of several objects
    ├── UnresolvedCreate         engine/recovery.py    apply refused: a create's outcome is unknown ('labform state resolve')
    ├── ChangeFailed             engine/executor.py    one change failed; its message is the change's line in the summary
    ├── ProviderError            providers/errors.py   a cloud call failed (cloud, operation, status, message)
    │   ├── NotFoundError        providers/errors.py   the object is gone (404, or the cloud's equivalent)
    │   ├── Overdue              providers/errors.py   an answer still arriving at its deadline (sent again when safe)
    │   ├── AppliedWithError     providers/errors.py   the object exists, but the step failed (a gate, a timeout)
    │   └── Refusal              providers/wetest/client.py  HTTP 200 with a non-zero ``ret``
    ├── ArgumentError            providers/errors.py   an argument only the provider can judge (a missing file)
    └── WaitTimeout              providers/polling.py  a wait gave up; run types turn it into AppliedWithError

Outside the tree, on purpose (none of them ever reaches the CLI):

    Rejection(Exception)         providers/emulation/rejections.py  an emulator's HTTP answer to a request
                                 it refuses, raised and rendered inside the emulator's server
    _LimitExceeded(ComposerError) engine/loader.py     a YAML bound crossed, turned into a ConfigError by the loader
    _NotPlain(Exception)         engine/loader.py      the fast YAML path declines a file; the round-trip one reads it
"""

from __future__ import annotations

from dataclasses import dataclass

from labform.providers.errors import LabformError

__all__ = [
    "ConfigError",
    "ConfigErrors",
    "CycleError",
    "LabformError",
    "PlanRefusedError",
    "SourceLocation",
    "StateError",
    "StateLockedError",
]


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class ConfigError(LabformError):
    def __init__(self, message: str, location: SourceLocation | None = None, subject: str | None = None):
        self.location = location
        self.subject = subject
        self.message = message
        prefix = f"{location}: " if location else ""
        about = f"{subject}: " if subject else ""
        super().__init__(f"{prefix}{about}{message}")


class CycleError(ConfigError):
    pass


class StateError(LabformError):
    pass


class StateLockedError(StateError):
    pass


class PlanRefusedError(LabformError):
    pass


class ConfigErrors(LabformError):
    """Several ConfigErrors found in one pass, so the user fixes them all at once."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
