"""External programs labform runs for a secret or a key: ``command()`` in expressions, the
``command`` key provider, a high-water mark kept through a program. One place decides how they
are run (no shell, a time limit) and how their failure reads (exit status and the last line of
their standard error, secrets masked: a program's message may echo what it was given)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from labform.providers import masking

TIMEOUT = 60.0  # seconds a program may take (a KMS round trip, a Vault login)


class ExternalError(Exception):
    """The program could not be run, or failed; the message names it, never its output."""


def run(argv: Sequence[str], stdin: str | None = None, timeout: float = TIMEOUT) -> str:
    """The program's standard output, once it exited 0."""
    program = argv[0]
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ExternalError(f"{program} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise ExternalError(f"cannot run {program}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise ExternalError(f"{program} exited {done.returncode}: {masking.redact(said[-1]) if said else 'no message'}")
    return done.stdout
