"""How long and how much one HTTP call may take: the provider block's settings of the same names,
as the shared HTTP layer reads them (a module of its own, so settings and client both reach it)."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How long and how much one call may take; the provider block's settings of the same names."""

    operation_timeout: float = 120.0
    max_answer_size: int = 32 * MiB
    download_idle_timeout: float = 60.0
    download_min_rate: float = 1024.0
    upload_idle_timeout: float = 60.0
    upload_min_rate: float = 1024.0
    # The provider's sensitive settings, which a 401 or 403 tells the user to check.
    credential_settings: tuple[str, ...] = ()
