"""Type name → provider and resource/data class. The only list of clouds.

Adding a cloud: write providers/<cloud>/ and add its Provider class here.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from providers.base import DataSource, Provider, ResourceType

_PROVIDERS = {
    "apptest": "providers.apptest.provider:AppTestProvider",
    "bitbar": "providers.bitbar.provider:BitbarProvider",
    "wetest": "providers.wetest.provider:WeTestProvider",
}


def provider_names() -> list[str]:
    return sorted(_PROVIDERS)


@cache
def provider(name: str) -> Provider:
    if name not in _PROVIDERS:
        raise KeyError(name)
    module, _, cls = _PROVIDERS[name].partition(":")
    return getattr(import_module(module), cls)()


@cache
def resource_types() -> dict[str, ResourceType]:
    return {t.type_name: t() for name in _PROVIDERS for t in provider(name).resource_types}


@cache
def data_sources() -> dict[str, DataSource]:
    return {d.type_name: d() for name in _PROVIDERS for d in provider(name).data_sources}
