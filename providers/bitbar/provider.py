"""The Bitbar provider: settings, client, types."""

from __future__ import annotations

from pydantic import model_validator

from labform.providers.base import HttpSettings, Provider, arg
from labform.providers.bitbar import lookups, resources, runs, uploads
from labform.providers.bitbar.client import BitbarClient


class BitbarSettings(HttpSettings):
    endpoint: str = arg("https://cloud.bitbar.com", description="API root URL.")
    api_key: str | None = arg(None, sensitive=True, description="API key (sent as the HTTP Basic user).")
    username: str | None = arg(None, description="OAuth2 user, when no api_key is given.")
    password: str | None = arg(None, sensitive=True, description="OAuth2 password, with username.")

    @model_validator(mode="after")
    def _one_credential(self):
        if not self.api_key and not (self.username and self.password):
            raise ValueError("set api_key, or username and password (e.g. api_key: ${env.BITBAR_API_KEY})")
        return self


class BitbarProvider(Provider):
    """Bitbar Testing (API v2): projects, their configs, device groups, files and test runs."""

    name = "bitbar"
    Settings = BitbarSettings
    resource_types = (
        resources.Project,
        resources.ProjectConfig,
        resources.ConfigParameter,
        resources.DeviceGroup,
        uploads.ProjectFile,
        runs.Run,
        runs.RunTag,
        resources.ProjectSharing,
        resources.Notification,
    )
    data_sources = (lookups.Devices, lookups.DeviceGroups, lookups.Runs)

    def client(self, settings: BitbarSettings) -> BitbarClient:
        return BitbarClient(
            settings.endpoint,
            settings.api_key,
            settings.username,
            settings.password,
            settings.timeout,
            limits=settings.limits(),
        )
