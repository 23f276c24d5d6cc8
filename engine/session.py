"""Configured providers for one command: settings validated, clients built once.

A provider is configured only when the plan first needs it, so a plan that
only loads (validate, graph) never touches the network, and errors in a
provider's settings point at the ``providers:`` block.

The command's reads are shared here too: every provider's context carries the
session's ``Listings`` (each listing read once per command, whoever asks) and
its ``Fanout`` (at most ``--parallelism`` reads at once, set by the planner);
each cloud gets one ``StatusBoard`` for the waits on its runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from labform.engine.addresses import Address
from labform.engine.arguments import data_source, register_secrets, validated
from labform.engine.config import PlanConfig
from labform.engine.options import DEFAULT_PARALLELISM
from labform.providers import registry
from labform.providers.base import Context
from labform.providers.reads import Fanout, Listings


class ProviderSession:
    def __init__(
        self,
        config: PlanConfig,
        overrides: dict[str, dict[str, Any]] | None = None,
        progress: Callable[[str], None] = lambda message: None,
        parallelism: int = DEFAULT_PARALLELISM,
    ):
        self.config = config
        self.overrides = overrides or {}
        self.progress = progress
        self._contexts: dict[str, Context] = {}
        self._lock = threading.Lock()
        # --parallelism bounds the reads in flight as it bounds the changes.
        self.listings = Listings(Fanout(parallelism))

    def context(self, provider_name: str) -> Context:
        with self._lock:
            if provider_name not in self._contexts:
                self._contexts[provider_name] = self._configure(provider_name)
            return self._contexts[provider_name]

    def _configure(self, name: str) -> Context:
        provider = registry.provider(name)
        raw = {**self.config.providers.get(name, {}), **self.overrides.get(name, {})}
        values = validated(provider.Settings, raw, self.config.positions, ("providers", name), f"provider {name}")
        register_secrets(provider.Settings, values)
        settings = provider.Settings.model_validate(values)
        return Context(
            client=provider.client(settings), settings=settings, progress=self.progress, listings=self.listings
        )

    def read_data(self, address: Address, args: dict[str, Any]) -> dict[str, Any]:
        """A data source's arguments and what it read (plan and apply read the same way)."""
        return {**args, **data_source(address).read(self.context(address.provider), args)}

    def close(self) -> None:
        for context in self._contexts.values():
            close = getattr(context.client, "close", None)
            if close:
                close()
