"""The Perfecto Smart Reporting provider (read-only): settings, client, types."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from labform.providers.base import HttpSettings, Provider, arg
from labform.providers.perfecto import lookups, resources
from labform.providers.perfecto.client import PerfectoClient, reporting_server


class PerfectoSettings(HttpSettings):
    cloud: str | None = arg(None, min_length=1, description='Cloud name: "demo" for https://demo.perfectomobile.com.')
    endpoint: str | None = arg(
        None, description="Reporting server URL; https://<cloud>.app.perfectomobile.com when unset."
    )
    security_token: str = arg(min_length=1, sensitive=True, description="Personal security token for this cloud.")
    token_header: Literal["PERFECTO_AUTHORIZATION", "Perfecto-Authorization", "Authorization"] = arg(
        "PERFECTO_AUTHORIZATION",
        description="Header carrying the token: PERFECTO_AUTHORIZATION (Perfecto's export samples) or "
        "Perfecto-Authorization; Authorization sends it as 'Bearer <token>'.",
    )

    @model_validator(mode="after")
    def _server_known(self):
        if not self.cloud and not self.endpoint:
            raise ValueError("set cloud (the reporting server is derived from it) or endpoint")
        return self

    @property
    def server(self) -> str:
        if self.endpoint:
            return self.endpoint
        assert self.cloud, "_server_known lets no settings lack both"
        return reporting_server(self.cloud)


class PerfectoProvider(Provider):
    """Perfecto Smart Reporting (read-only): a CI build's test executions, and gates on them."""

    name = "perfecto"
    Settings = PerfectoSettings
    resource_types = (resources.Gate,)
    data_sources = (lookups.Executions, lookups.Commands)

    def client(self, settings: PerfectoSettings) -> PerfectoClient:
        return PerfectoClient(
            settings.server, settings.security_token, settings.token_header, settings.timeout, limits=settings.limits()
        )
