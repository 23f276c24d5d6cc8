"""The apptest.ai provider: settings, client, types."""

from __future__ import annotations

from labform.providers.apptest import runs
from labform.providers.apptest.client import AppTestClient
from labform.providers.base import HttpSettings, Provider, arg
from labform.providers.polling import NonNegativeDuration


class AppTestSettings(HttpSettings):
    endpoint: str = arg("https://api.apptest.ai", description="API root URL.")
    user_id: str = arg(min_length=1, description="User id; sent as the HTTP Basic user.")
    access_key: str = arg(min_length=1, sensitive=True, description="Access key; sent as the HTTP Basic password.")
    maintenance_timeout: NonNegativeDuration = arg(
        300.0, description="How long to keep retrying while apptest.ai answers 8000 (System Maintenance)."
    )


class AppTestProvider(Provider):
    """apptest.ai: testsets its test bot runs on an app."""

    name = "apptest"
    Settings = AppTestSettings
    resource_types = (runs.Testset,)

    def client(self, settings: AppTestSettings) -> AppTestClient:
        return AppTestClient(
            settings.endpoint,
            settings.user_id,
            settings.access_key,
            settings.timeout,
            settings.maintenance_timeout,
            limits=settings.limits(),
        )
