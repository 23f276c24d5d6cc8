"""Errors the engine reports to a user: each says where and what, never a traceback.

    LabformError                 anything the CLI prints as "Error: ..." with exit 1
    ├── ConfigError              a plan file is wrong (carries file:line:col)
    │   └── CycleError           the dependency graph has a cycle
    ├── ConfigErrors             several ConfigErrors found in one pass
    ├── StateError               the state file/database cannot be read or written
    │   └── StateLockedError     another process holds the state lock
    └── PlanRefusedError         a saved plan no longer matches state or files

ProviderError (providers/errors.py) is raised by providers and wrapped by the
executor into the failed change's message.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class LabformError(Exception):
    """Base of every error the CLI shows as a message (exit code 1)."""


class ConfigError(LabformError):
    def __init__(self, message: str, location: SourceLocation | None = None, subject: str | None = None):
        self.location = location
        self.subject = subject
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
