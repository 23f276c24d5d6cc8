"""The WeTest provider: settings, client, types."""

from __future__ import annotations

from labform.providers.base import HttpSettings, Provider, arg
from labform.providers.wetest import lookups, runs, uploads
from labform.providers.wetest.client import WeTestClient


class WeTestSettings(HttpSettings):
    endpoint: str = arg(
        "https://api.paas.wetest.net/cloudtest", description="API root URL; the documented paths start with /v1."
    )
    secret_id: str = arg(min_length=1, description="SecretId (Account Settings); sent as the HTTP Basic user.")
    secret_key: str = arg(min_length=1, sensitive=True, description="SecretKey; sent as the HTTP Basic password.")


class WeTestProvider(Provider):
    """WeTest CloudTesting: apps, scripts and automation tests on the cloud's devices."""

    name = "wetest"
    Settings = WeTestSettings
    resource_types = (uploads.App, uploads.Script, runs.AutomationTest)
    data_sources = (lookups.Projects, lookups.Clouds, lookups.Devices, lookups.ModelLists)

    def client(self, settings: WeTestSettings) -> WeTestClient:
        return WeTestClient(
            settings.endpoint, settings.secret_id, settings.secret_key, settings.timeout, limits=settings.limits()
        )
