"""Perfecto fixtures: the emulator on loopback in every doc variant, found by plans through env vars as a user's CI would.

Every test that takes ``perfecto`` runs once per variant (``VARIANTS``): the
provider must work against each server the doc allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

import pytest

from providers.emulation import Clock, EmulatorApp, EmulatorOptions, EmulatorServer, RequestRecord
from providers.perfecto import emulator as perfecto_emulator
from providers.perfecto.emulator import EXECUTIONS, VARIANTS, Variants

TOKEN = perfecto_emulator.SANDBOX_TOKEN

PERFECTO_PROVIDER = """providers:
  perfecto:
    endpoint: ${env.PERFECTO_URL}
    security_token: ${env.PERFECTO_SECURITY_TOKEN}
    token_header: ${env.PERFECTO_TOKEN_HEADER:-Perfecto-Authorization}
"""


@dataclass
class RunningPerfecto:
    app: EmulatorApp
    server: EmulatorServer
    variant: str

    @property
    def variants(self) -> Variants:
        return VARIANTS[self.variant]

    def report_requests(self) -> list[RequestRecord]:
        return [r for r in self.app.log.matching("GET", EXECUTIONS) if r.path == EXECUTIONS]

    def queries(self) -> list[list[tuple[str, str]]]:
        """Each Execution Report request's query, as the server received it."""
        return [parse_qsl(r.query) for r in self.report_requests()]

    def seed(self, count: int, **shape) -> list[dict]:
        return perfecto_emulator.seed_executions(self.app, count, **shape)


@pytest.fixture
def perfecto_options() -> EmulatorOptions:
    return EmulatorOptions(clock=Clock(speed=0), retry_after=0, job_duration=0)


@pytest.fixture(params=sorted(VARIANTS))
def perfecto(request, perfecto_options, monkeypatch) -> RunningPerfecto:
    app = perfecto_emulator.build_app(perfecto_options, request.param)
    with EmulatorServer(app) as server:
        monkeypatch.setenv("PERFECTO_URL", server.url)
        monkeypatch.setenv("PERFECTO_SECURITY_TOKEN", TOKEN)
        if VARIANTS[request.param].token == "bearer":
            monkeypatch.setenv("PERFECTO_TOKEN_HEADER", "Authorization")
        yield RunningPerfecto(app, server, request.param)
