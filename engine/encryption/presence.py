"""Whether a command has any encryption to read, found without importing the models or cryptography.

Most commands run on plain state: they only need to know there is no ``encryption:``
section in the plan's files and no LABFORM_ENCRYPTION, which a text search answers
(a plain ``tests flaky`` or ``state list`` then starts as fast as before encryption existed).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from labform.engine.planpaths import folder_files

ENV = "LABFORM_ENCRYPTION"
SECTION = "encryption"
BLOCK_START = re.compile(rf"^{SECTION}[ \t]*:", re.MULTILINE)


def mentioned(plan_path: Path | None) -> bool:
    """True when LABFORM_ENCRYPTION is set or a plan file (as loader.plan_files lists them) has an ``encryption:``
    line; a false True only costs the full read, which then finds nothing."""
    if os.environ.get(ENV, "").strip():
        return True
    if plan_path is None:
        return False
    if plan_path.is_file():
        files = [plan_path]
    elif plan_path.is_dir():
        files = folder_files(plan_path)
    else:
        return False
    return any(BLOCK_START.search(file.read_text(encoding="utf-8", errors="replace")) for file in files)
