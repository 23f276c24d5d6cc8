"""Streaming files to and from clouds with a progress bar on a terminal.

Uploads read the file in chunks as httpx sends the multipart body, and
downloads write chunks as they arrive, so memory does not grow with file size.
On a terminal a rich progress bar shows the bytes; elsewhere (CI logs) one
line says when the transfer is done.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from labform.providers.errors import ArgumentError

if TYPE_CHECKING:
    import httpx
    from rich.progress import Progress

CHUNK = 1024 * 1024

# (file name, readable file object, content type): what httpx takes as a multipart file.
FilePart = tuple[str, Any, str]


# Digests already computed in this process, by file identity: an apply plans (hashing every
# upload) and then applies (asking again); a 1 GiB app is read once, not twice.
_DIGESTS: dict[tuple, str] = {}
_DIGESTS_LOCK = threading.Lock()


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The file's digest (sha256, md5, ...), read in chunks: a large app never sits in memory.
    Asked again for a file whose size and change times did not move, it is not read again."""
    with path.open("rb") as handle:
        seen = os.fstat(handle.fileno())
        identity = (algorithm, seen.st_dev, seen.st_ino, seen.st_size, seen.st_mtime_ns, seen.st_ctime_ns)
        with _DIGESTS_LOCK:
            known = _DIGESTS.get(identity)
        if known is not None:
            return known
        digest = hashlib.new(algorithm)
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    with _DIGESTS_LOCK:
        _DIGESTS[identity] = digest.hexdigest()
    return _DIGESTS[identity]


class _SharedBars:
    """One rich display for all transfers: parallel uploads share it (rich allows one live display)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._progress: Progress | None = None

    @contextmanager
    def task(self, label: str, total: int | None) -> Iterator[Callable[[int], None]]:
        with self._lock:
            if self._progress is None:  # no transfer is drawing: start the one display
                from rich import progress as bars  # only a terminal transfer draws one: no other command loads rich

                columns = (
                    bars.TextColumn("{task.description}"),
                    bars.BarColumn(),
                    bars.DownloadColumn(),
                    bars.TransferSpeedColumn(),
                )
                self._progress = bars.Progress(*columns, transient=True)
                self._progress.start()
            self._users += 1
            progress = self._progress
        task = progress.add_task(label, total=total)
        try:
            yield lambda n: progress.advance(task, n)
        finally:
            with self._lock:
                progress.remove_task(task)
                self._users -= 1
                if self._users == 0:
                    progress.stop()
                    self._progress = None


_BARS = _SharedBars()


@contextmanager
def progress_bar(label: str, total: int | None, report: Callable[[str], None]) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws a bar only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield lambda n: None
    else:
        with _BARS.task(label, total) as advance:
            yield advance
    report(f"{label}: done ({human_size(total or 0)})")


def human_size(size: int) -> str:
    """419430400 -> '400.0 MiB': what a CI log reader can take in at a glance."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


_CHECK_ONLY = contextvars.ContextVar("labform_files_checked_only", default=False)


@contextmanager
def files_checked_only() -> Iterator[None]:
    """Within it, :func:`local_file_digest` checks each file (its kind, that it opens) but reads none:
    ``labform validate`` finds every local mistake without the cost of hashing a large app."""
    token = _CHECK_ONLY.set(True)
    try:
        yield
    finally:
        _CHECK_ONLY.reset(token)


def local_file_digest(value: object, algorithm: str, extensions: tuple[str, ...] = ()) -> str | None:
    """The digest of a plan's ``path`` argument, or None while the path is not known yet (or, under
    :func:`files_checked_only`, not asked for).

    A file that cannot be read, or whose extension the cloud refuses, raises
    ArgumentError("path"), so the plan fails at that line before any upload.
    """
    if not isinstance(value, str):
        return None
    path = Path(value)
    if extensions and path.suffix.lower().lstrip(".") not in extensions:
        accepted = ", ".join(f".{e}" for e in extensions)
        raise ArgumentError("path", f"'{path.name}' is not a kind of file the cloud accepts ({accepted})")
    try:
        if _CHECK_ONLY.get():
            with path.open("rb"):
                return None
        return file_digest(path, algorithm)
    except OSError as exc:
        raise ArgumentError("path", f"cannot read '{path}': {exc.strerror or exc}") from None


@contextmanager
def streamed_part(path: Path, report: Callable[[str], None]) -> Iterator[FilePart]:
    """A multipart file part read from disk in chunks while httpx sends it, with a progress bar."""
    size = path.stat().st_size
    with path.open("rb") as handle, progress_bar(f"upload {path.name}", size, report) as advance:
        yield (path.name, CountingReader(handle, advance), "application/octet-stream")


class CountingReader:
    """A read-only file wrapper that reports how many bytes were read."""

    def __init__(self, handle: BinaryIO, advance: Callable[[int], None]):
        self._handle = handle
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._advance(len(chunk))
        return chunk

    def __getattr__(self, name):
        return getattr(self._handle, name)


def download(response: httpx.Response, target: Path, advance: Callable[[int], None]) -> Path:
    """Write a streamed response to ``target`` chunk by chunk (via a temp file, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as handle:
        for chunk in response.iter_bytes(CHUNK):
            handle.write(chunk)
            advance(len(chunk))
    partial.replace(target)
    return target
