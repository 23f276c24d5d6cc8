"""Writing labform's own files so that a failure names the file and leaves nothing half-written.

An OSError names no file ("[Errno 28] No space left on device"); ``write_failed``
turns it into a LabformError saying which file, why, and what to do.
``replace`` writes a whole file the atomic way: a temp file in the same folder,
fsynced, renamed over the old one; if anything fails the temp file is removed
and the old file is left as it was.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from labform.engine.errors import LabformError, StateError

UNCHANGED = "the state is unchanged"

_ADVICE = {
    errno.ENOSPC: "free space and run again",
    errno.EDQUOT: "free space (or raise the quota) and run again",
    errno.EROFS: "make the filesystem writable and run again",
    errno.EACCES: "fix its permissions and run again",
    errno.EPERM: "fix its permissions and run again",
}


def write_failed(
    path: Path, exc: OSError, consequence: str = UNCHANGED, error: type[LabformError] = StateError
) -> LabformError:
    """The error to raise for ``exc`` while writing ``path``: what, where, what to do, what it left."""
    reason = (exc.strerror or str(exc)).lower()
    advice = _ADVICE.get(exc.errno or 0, "fix that and run again")
    return error(f"{reason} writing {path}: {advice}; {consequence}")


def replace(
    path: Path,
    text: str,
    consequence: str = UNCHANGED,
    error: type[LabformError] = StateError,
    mode: int = 0o600,
) -> None:
    """Write ``text`` as ``path`` (owner-only unless ``mode`` says otherwise), all or nothing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise write_failed(path, exc, consequence, error) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_failed(path, exc, consequence, error) from None
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise write_failed(path.parent, exc, f"{path} is written but may not survive a crash", error) from None
