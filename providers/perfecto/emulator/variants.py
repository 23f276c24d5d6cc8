"""The readings of the doc where it is silent or contradicts itself, one field each (how doc variants work: providers/emulation/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True)
class Variants:
    # Where the security token goes: Perfecto's own header; also, or only, Authorization: Bearer <token>.
    token: Literal["perfecto", "perfecto_or_bearer", "bearer"] = "perfecto"
    # Perfecto's own header: either spelling (the doc's Perfecto-Authorization, its samples'
    # PERFECTO_AUTHORIZATION), or only one of them.
    token_header: Literal["either", "Perfecto-Authorization", "PERFECTO_AUTHORIZATION"] = "either"
    # The status of a request without an accepted token.
    refused_status: Literal[401, 403] = 401
    # "first 500 results": a page (``_page`` reaches the rest), or the most the report ever gives.
    results: Literal["pages", "first_500"] = "pages"
    # "sorted by test start time": which way.
    order: Literal["newest_first", "oldest_first"] = "newest_first"
    # processingStatus covers every execution of the report, or only those of the page returned.
    processing: Literal["report", "page"] = "report"
    # startExecutionTime..endExecutionTime bound the test start time, or the comparisons as the doc writes them.
    time_window: Literal["window", "as_written"] = "window"


DEFAULT = Variants()
VARIANTS: dict[str, Variants] = {
    "default": DEFAULT,
    "token-bearer-too": replace(DEFAULT, token="perfecto_or_bearer"),
    "token-bearer-only": replace(DEFAULT, token="bearer"),
    "token-header-dashed-only": replace(DEFAULT, token_header="Perfecto-Authorization"),
    "token-header-underscored-only": replace(DEFAULT, token_header="PERFECTO_AUTHORIZATION"),
    "refused-403": replace(DEFAULT, refused_status=403),
    "first-500-only": replace(DEFAULT, results="first_500"),
    "oldest-first": replace(DEFAULT, order="oldest_first"),
    "processing-per-page": replace(DEFAULT, processing="page"),
    "time-as-written": replace(DEFAULT, time_window="as_written"),
}
