"""The encryption a command works with: the checked block (config.py) resolved to its targets (target.py).

Kept apart from both so the models, the key providers and the targets import
one way only; cryptography and the key providers load only when a plan or
LABFORM_ENCRYPTION configures encryption.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from labform.engine.encryption.presence import SECTION, mentioned

if TYPE_CHECKING:
    from labform.engine.encryption.target import EncryptionConfig


def encryption_config(plan_path: Path | None) -> EncryptionConfig | None:
    """The configuration the plan at ``plan_path`` (if any) and LABFORM_ENCRYPTION make; None without either."""
    if not mentioned(plan_path):
        return None
    from labform.engine.encryption.config import checked_block
    from labform.engine.encryption.target import build_targets

    checked = checked_block(plan_path)
    if checked is None:
        return None
    block, fail = checked
    return build_targets(block, lambda path, message: fail((SECTION, *path), message))
