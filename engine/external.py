"""Values from outside labform: files (``file()``, a workspace's mounted secrets) and programs
(``command()``, the ``command`` key provider, a workspace's secret helpers). One place decides how a
file is read (UTF-8 text) and how a program is run (no shell, a time limit, standard input closed
unless given), and how a failure reads: a program's exit status, never what it printed (a secret
helper's complaint may quote a secret labform has not seen, so masking cannot catch it)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

TIMEOUT = 60.0  # seconds a program may take (a KMS round trip, a Vault login)


class ExternalError(Exception):
    """The file could not be read, or the program run; the message names it, never its output."""


def read(path: Path, shown: str | None = None) -> str:
    """The file's text; ``shown`` is how a message names it (the path as written)."""
    name = shown if shown is not None else str(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ExternalError(f"'{name}' is not UTF-8 text") from None
    except OSError as exc:
        raise ExternalError(f"cannot read '{name}': {exc.strerror or exc}") from None


def run(argv: Sequence[str], stdin: str | None = None, cwd: Path | None = None, timeout: float = TIMEOUT) -> str:
    """The program's standard output, once it exited 0."""
    program = argv[0]
    feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    try:
        done = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, **feed)
    except subprocess.TimeoutExpired:
        raise ExternalError(f"{program} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise ExternalError(f"cannot run {program}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise ExternalError(f"{program} exited {done.returncode} (its output is not shown)")
    return done.stdout
