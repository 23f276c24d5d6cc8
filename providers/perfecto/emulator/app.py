"""The Smart Reporting server: the two GET endpoints behind the security token, on the emulator kit."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from labform.providers.emulation import Emulator, EmulatorOptions, Rejection
from labform.providers.perfecto.emulator.executions import commands_of, make_executions, virtual_ms
from labform.providers.perfecto.emulator.query import Query
from labform.providers.perfecto.emulator.variants import DEFAULT, Variants

EXECUTIONS = "/export/api/v3/test-executions"
PAGE_SIZE = 500
SANDBOX_TOKEN = "sandbox-perfecto-security-token"
USER_ID = "sandbox@perfecto.example"
TENANT_ID = "sandbox-perfectomobile-com"
SANDBOX_JOB = "checkout-ci"
# The spellings of Perfecto's own token header each reading accepts (Starlette gives header names in lower case).
TOKEN_HEADERS = {
    "either": ("perfecto-authorization", "perfecto_authorization"),
    "Perfecto-Authorization": ("perfecto-authorization",),
    "PERFECTO_AUTHORIZATION": ("perfecto_authorization",),
}


def api_error(status: int, message: str) -> Rejection:
    """The doc shows no error body; this emulator answers ``{"message"}``."""
    return Rejection(status, {"message": message}, message)


class PerfectoEmulator(Emulator):
    name = "perfecto"

    def __init__(self, options: EmulatorOptions, variants: Variants = DEFAULT):
        self.variants = variants
        super().__init__(options)
        self.token = options.credentials.get("security_token", SANDBOX_TOKEN)

    def initial_data(self) -> dict[str, Any]:
        """Two builds of a CI job: #127 an hour ago, processed, one test failed; #128 just run, still processing."""
        now, seed = self.now(), self.options.seed
        earlier = make_executions(
            12, job_name=SANDBOX_JOB, job_number=127, started=now - 3600, seed=seed, failure_share=1 / 12
        )
        latest = make_executions(
            12,
            job_name=SANDBOX_JOB,
            job_number=128,
            started=now - 900,
            seed=seed,
            failure_share=self.options.failure_share,
        )
        return {
            "executions": [{"resource": r, "ready_at": now} for r in earlier]
            + [{"resource": r, "ready_at": now + self.options.job_duration} for r in latest],
            "commands": {},
        }

    def error_body(self, status: int, message: str) -> Any:
        return api_error(status, message).body

    def routes(self) -> list[BaseRoute]:
        return [
            Route(EXECUTIONS, self.list_executions, methods=["GET"]),
            Route(EXECUTIONS + "/{test_id}/commands", self.list_commands, methods=["GET"]),
        ]

    # ---- the security token

    def _given_tokens(self, request: Request) -> list[str]:
        given = []
        if self.variants.token in ("perfecto", "perfecto_or_bearer"):
            given += [request.headers.get(name, "") for name in TOKEN_HEADERS[self.variants.token_header]]
        if self.variants.token in ("perfecto_or_bearer", "bearer"):
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            given.append(value.strip() if scheme.lower() == "bearer" else "")
        return given

    def _authorize(self, request: Request) -> None:
        if not any(
            token and hmac.compare_digest(token.encode(), self.token.encode()) for token in self._given_tokens(request)
        ):
            raise api_error(self.variants.refused_status, "A valid Perfecto security token is required")

    # ---- endpoints

    def _metadata(self) -> dict[str, Any]:
        return {"createdAt": virtual_ms(self.now()), "apiVersion": "v1", "userId": USER_ID, "tenantId": TENANT_ID}

    @staticmethod
    def _shown(record: dict[str, Any], now: float, server: str) -> dict[str, Any]:
        """The resource as served: links to artifacts only once processed; the report link on this server."""
        resource = {"reportURL": f"{server}test/{record['resource']['id']}", **record["resource"]}
        if record["ready_at"] > now:
            resource.update(videos=[], artifacts=[])
        return resource

    async def list_executions(self, request: Request) -> Response:
        self._authorize(request)
        query = Query.parse(request.query_params.multi_items())
        now = self.now()
        with self.store.lock:
            chosen = [r for r in self.data["executions"] if query.selects(r["resource"], self.variants)]
        chosen.sort(key=lambda r: r["resource"].get("startTime") or 0, reverse=self.variants.order == "newest_first")
        reachable = chosen[:PAGE_SIZE] if self.variants.results == "first_500" else chosen
        start = (query.page - 1) * PAGE_SIZE
        page = reachable[start : start + PAGE_SIZE]
        judged = chosen if self.variants.processing == "report" else page
        metadata = {
            **self._metadata(),
            "processingStatus": "PROCESSING_COMPLETE" if all(r["ready_at"] <= now for r in judged) else "PROCESSING",
            "page": query.page,
            # More selected executions than this page and the ones before it returned.
            "truncated": len(chosen) > min(start, len(reachable)) + len(page),
        }
        server = str(request.base_url)
        return JSONResponse({"resources": [self._shown(r, now, server) for r in page], "metadata": metadata})

    async def list_commands(self, request: Request) -> Response:
        self._authorize(request)
        test_id = request.path_params["test_id"]
        with self.store.lock:
            steps = self.data["commands"].get(test_id)
            record = next((r for r in self.data["executions"] if r["resource"].get("id") == test_id), None)
        if steps is None:
            steps = commands_of(record["resource"]) if record else []
        # The doc's example writes this createdAt as a string (line 379).
        return JSONResponse(
            {"resources": steps, "metadata": {**self._metadata(), "createdAt": str(virtual_ms(self.now()))}}
        )
