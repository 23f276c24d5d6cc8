"""Type name → provider and resource/data class; cloud → its emulator. The only list of clouds.

Both tables hold import paths, not imports: a command loads a cloud's code
only when a plan names it, and no production path ever loads an emulator
(only the sandbox and the tests ask for one, through :func:`emulator`).

Adding a cloud: write providers/<cloud>/ and add a line to each table.
Tests add their own (an in-memory provider) with :func:`register`.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Any

from labform.providers.base import DataSource, Provider, ResourceType

_PROVIDERS = {
    "apptest": "labform.providers.apptest.provider:AppTestProvider",
    "bitbar": "labform.providers.bitbar.provider:BitbarProvider",
    "kyaraben": "labform.providers.kyaraben.provider:KyarabenProvider",
    "perfecto": "labform.providers.perfecto.provider:PerfectoProvider",
    "wetest": "labform.providers.wetest.provider:WeTestProvider",
}

# Each entry is an ``EmulatorEntry`` (providers/emulation): how to build the
# app and which provider settings point at it.
_EMULATORS = {
    "apptest": "labform.providers.apptest.emulator:SANDBOX",
    "bitbar": "labform.providers.bitbar.emulator:SANDBOX",
    "kyaraben": "labform.providers.kyaraben.emulator:SANDBOX",
    "perfecto": "labform.providers.perfecto.emulator:SANDBOX",
    "wetest": "labform.providers.wetest.emulator:SANDBOX",
}


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


def register(name: str, provider_target: str, emulator_target: str | None = None) -> None:
    """Add a cloud at run time (tests register an in-memory provider this way)."""
    _PROVIDERS[name] = provider_target
    if emulator_target:
        _EMULATORS[name] = emulator_target
    forget_caches()


def forget_caches() -> None:
    """Load every table entry afresh on next use (after the tables changed)."""
    for cached in CACHES:
        cached.cache_clear()


def provider_names() -> list[str]:
    return sorted(_PROVIDERS)


def emulator_names() -> list[str]:
    return sorted(_EMULATORS)


@cache
def provider(name: str) -> Provider:
    if name not in _PROVIDERS:
        raise KeyError(name)
    return _load(_PROVIDERS[name])()


@cache
def emulator(name: str) -> Any:
    """The cloud's ``EmulatorEntry``, imported on first use."""
    if name not in _EMULATORS:
        raise KeyError(name)
    return _load(_EMULATORS[name])


def owner(type_name: str) -> str:
    """The cloud a type belongs to: its name's prefix (``bitbar_project`` → ``bitbar``)."""
    return type_name.partition("_")[0]


def resource_type(type_name: str) -> ResourceType | None:
    """One resource type, loading only its own cloud's code (None if no cloud has it)."""
    return _types_of(owner(type_name)).get(type_name)


def data_source(type_name: str) -> DataSource | None:
    """One data source, loading only its own cloud's code (None if no cloud has it)."""
    return _sources_of(owner(type_name)).get(type_name)


@cache
def resource_types() -> dict[str, ResourceType]:
    """Every cloud's resource types (for the schema and for suggestions after a typo)."""
    return {type_name: t for name in _PROVIDERS for type_name, t in _types_of(name).items()}


@cache
def data_sources() -> dict[str, DataSource]:
    return {type_name: d for name in _PROVIDERS for type_name, d in _sources_of(name).items()}


@cache
def _types_of(name: str) -> dict[str, ResourceType]:
    return {t.type_name: t() for t in provider(name).resource_types} if name in _PROVIDERS else {}


@cache
def _sources_of(name: str) -> dict[str, DataSource]:
    return {d.type_name: d() for d in provider(name).data_sources} if name in _PROVIDERS else {}


CACHES = (provider, emulator, resource_types, data_sources, _types_of, _sources_of)
