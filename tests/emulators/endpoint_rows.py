"""Rows of docs/endpoints.tsv (copied from the clouds' API docs), the list of every documented endpoint.

Each emulator test reads its cloud's rows from here and proves each is routed
(a well-formed request gets neither 404 nor 405), so coverage of the docs is
measured rather than guessed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

ENDPOINTS_TSV = Path(__file__).resolve().parents[2] / "docs" / "endpoints.tsv"


@dataclass(frozen=True)
class EndpointRow:
    cloud: str
    method: str
    path: str
    what: str

    def filled(self, ids: dict[str, object]) -> str:
        """The path with each ``{param}`` replaced by ``ids[param]`` (case-insensitive)."""
        lowered = {key.lower(): value for key, value in ids.items()}

        def substitute(match: re.Match) -> str:
            name = match.group(1)
            if name.lower() not in lowered:
                raise KeyError(f"no id given for path parameter {{{name}}} in {self.path}")
            return str(lowered[name.lower()])

        return re.sub(r"\{(\w+)\}", substitute, self.path)


def rows_for(cloud: str) -> list[EndpointRow]:
    with ENDPOINTS_TSV.open(newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return [EndpointRow(r["cloud"], r["method"], r["path"], r["what"]) for r in reader if r["cloud"] == cloud]
