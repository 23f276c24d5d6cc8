"""Rows of docs/endpoints.tsv (copied from the clouds' API docs), the list of every documented endpoint.

Each emulator test reads its cloud's rows from here and proves each is routed
(a well-formed request gets neither 404 nor 405), so coverage of the docs is
measured rather than guessed.

A cloud's vendor-client set, the endpoints its official client calls that its doc
does not list, is kept apart: its rows name the cloud ``<cloud>/vendor-client``
and end their ``what`` with ``(evidence: <client version, source file and function>)``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

VENDOR_CLIENT = "vendor-client"
ENDPOINTS_TSV = Path(__file__).resolve().parents[2] / "docs" / "endpoints.tsv"


@dataclass(frozen=True)
class EndpointRow:
    cloud: str
    method: str
    path: str
    what: str

    @property
    def evidence(self) -> str:
        """Where a vendor-client row's endpoint is seen in the vendor's client ("" for a doc row)."""
        found = re.search(r"\(evidence: ([^()]+)\)$", self.what)
        return found.group(1) if found else ""

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


def vendor_client_rows(cloud: str) -> list[EndpointRow]:
    """The endpoints ``cloud``'s official client calls that its doc lacks (each with its evidence)."""
    return rows_for(f"{cloud}/{VENDOR_CLIENT}")
