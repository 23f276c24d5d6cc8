"""The kyaraben provider: settings, client, types. Its emulator is reached through the registry."""

from __future__ import annotations

from labform.providers.base import HttpSettings, Provider, arg
from labform.providers.kyaraben import lookups, resources, runs, uploads
from labform.providers.kyaraben.client import KyarabenClient
from labform.providers.polling import PositiveDuration


class KyarabenSettings(HttpSettings):
    endpoint: str = arg(
        min_length=1, description="API root URL (the authentication proxy in front of kyaraben, or kyaraben itself)."
    )
    auth_header: str = arg(
        "X-Auth-UserId", min_length=1, description="Header carrying the identity; kyaraben itself reads X-Auth-UserId."
    )
    auth_value: str = arg(
        min_length=1, sensitive=True, description="That header's value: the user id, or what the proxy expects."
    )
    wait_timeout: PositiveDuration = arg(
        600.0, description="How long to wait for a project, upload, VM or command to be READY."
    )
    poll: PositiveDuration = arg(5.0, description="Longest pause between two status reads while waiting.")


class KyarabenProvider(Provider):
    """kyaraben: projects, Android VMs, uploads and test campaigns."""

    name = "kyaraben"
    Settings = KyarabenSettings
    resource_types = (
        resources.Project,
        resources.Avm,
        uploads.Apk,
        uploads.CameraFile,
        uploads.TestSource,
        runs.Campaign,
    )
    data_sources = (lookups.Images, lookups.Quota, lookups.Projects)

    def client(self, settings: KyarabenSettings) -> KyarabenClient:
        return KyarabenClient(
            settings.endpoint, settings.auth_header, settings.auth_value, settings.timeout, limits=settings.limits()
        )
