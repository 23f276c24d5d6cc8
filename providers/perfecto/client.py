"""Thin calls to the Perfecto Smart Reporting public API (two GET endpoints), on the shared HTTP layer.

Auth is the personal security token in a request header: ``PERFECTO_AUTHORIZATION``
(what the export samples the doc links send) unless the settings name
``Perfecto-Authorization``, or ``Authorization``, which sends it as ``Bearer <token>``.
The reporting server is the cloud's URL with ``.app`` after the cloud name.

The Execution Report is paged: ``_page`` counts from 1, each page holds up to
500 executions, and ``metadata.truncated`` says more follow. A server that
says ``truncated`` but hands back an empty page only lets the first 500 be
read; the report then says so instead of passing for complete.

    client = PerfectoClient("https://demo.app.perfectomobile.com", token, "PERFECTO_AUTHORIZATION", 30)
    report = client.executions([("jobName[0]", "checkout-ci")])
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from labform.providers.base import Context
from labform.providers.http import HttpClient, default_error_message, member
from labform.providers.limits import Limits

if TYPE_CHECKING:
    import httpx

CLOUD = "perfecto"
EXECUTIONS = "/export/api/v3/test-executions"
PROCESSING_COMPLETE = "PROCESSING_COMPLETE"

log = logging.getLogger("labform.perfecto")


def reporting_server(cloud: str) -> str:
    """https://demo.perfectomobile.com is cloud "demo"; its reporting server is https://demo.app.perfectomobile.com."""
    return f"https://{cloud}.app.perfectomobile.com"


def error_message(response: httpx.Response) -> str:
    said = default_error_message(response)
    if response.status_code in (401, 403):
        return f"{said}; the security token was refused (a token belongs to one cloud and one user)"
    return said


@dataclass
class Report:
    """Every execution the server would hand over for one query, and what its pages said."""

    executions: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0
    # Each page's metadata.processingStatus: processing is complete when every page says so.
    processing: list[str | None] = field(default_factory=list)
    # The server said more executions exist but gave no more (it lets only the first ones be read).
    truncated: bool = False

    @property
    def processing_status(self) -> str:
        return PROCESSING_COMPLETE if all(s == PROCESSING_COMPLETE for s in self.processing) else "PROCESSING"


class PerfectoClient:
    def __init__(self, endpoint: str, token: str, token_header: str, timeout: float, limits: Limits | None = None):
        value = f"Bearer {token}" if token_header == "Authorization" else token
        self.http = HttpClient(
            CLOUD,
            endpoint,
            headers={token_header: value, "Accept": "application/json"},
            timeout=timeout,
            limits=limits,
            error_message=error_message,
        )

    def close(self) -> None:
        self.http.close()

    def _get(self, path: str, operation: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        return self.http.request_json("GET", path, operation=operation, params=params, shape=dict)

    def executions(self, params: list[tuple[str, str]]) -> Report:
        """The Execution Report for these filters, every page of it (``_page`` 1, 2, … while truncated)."""
        report = Report()
        while True:
            body = self._get(EXECUTIONS, "list executions", [*params, ("_page", str(report.pages + 1))])
            resources = member(body, "resources", (list, type(None)), CLOUD, "list executions") or []
            metadata = member(body, "metadata", (dict, type(None)), CLOUD, "list executions") or {}
            report.pages += 1
            report.executions += resources
            report.processing.append(metadata.get("processingStatus"))
            if not metadata.get("truncated"):
                return report
            if not resources:
                log.warning(
                    "perfecto: page %d of the report is empty although the report is truncated: "
                    "the server lets only the first %d executions be read",
                    report.pages,
                    len(report.executions),
                )
                report.truncated = True
                return report

    def commands(self, test_id: str) -> list[dict[str, Any]]:
        """The Single Test Commands Report: the test's steps, each with its commands in execution order."""
        body = self._get(f"{EXECUTIONS}/{quote(test_id, safe='')}/commands", "read test commands")
        return member(body, "resources", (list, type(None)), CLOUD, "read test commands") or []


def client_of(ctx: Context) -> PerfectoClient:
    """The configured client a resource call receives in its context."""
    return ctx.client
