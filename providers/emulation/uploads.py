"""Uploaded files, kept on disk and never in memory or in the ``JsonStore``.

Uploads may be hundreds of MiB, so a part is copied to a file in chunks and
its md5 taken on the way (WeTest finds apps by it; apptest.ai records it).
Records keep the path.

    stored = await save_upload(form["data"], self.uploads)
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile

from labform.providers.emulation.options import EmulatorOptions

_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    filename: str
    size: int
    md5: str


def upload_directory(options: EmulatorOptions, cloud: str) -> Path:
    """Where a cloud's uploads go.

    Beside the data file when the sandbox persists state, so stored paths stay
    valid after a restart; otherwise a temp folder removed when the process exits.
    """
    if options.data_file is not None:
        folder = options.data_file.with_name(f"{options.data_file.name}.{cloud}-uploads")
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    folder = Path(tempfile.mkdtemp(prefix=f"labform-{cloud}-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


async def save_upload(upload: UploadFile, directory: Path) -> StoredUpload:
    """Copy an uploaded part to a new file in ``directory``, hashing as it goes."""
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    handle, name = tempfile.mkstemp(dir=directory, suffix=Path(upload.filename or "").suffix)
    with os.fdopen(handle, "wb") as target:
        while chunk := await upload.read(_CHUNK):
            md5.update(chunk)
            target.write(chunk)
            size += len(chunk)
    return StoredUpload(Path(name), upload.filename or "", size, md5.hexdigest())
