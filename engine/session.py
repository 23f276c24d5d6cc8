"""Configured providers for one command: settings validated, clients built once.

A provider is configured only when the plan first needs it, so a plan that
only loads (validate, graph) never touches the network, and errors in a
provider's settings point at the ``providers:`` block.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from pydantic import ValidationError

from engine import secrets
from engine.config import PlanConfig
from engine.errors import ConfigError
from providers import registry
from providers.base import Context


class ProviderSession:
    def __init__(
        self,
        config: PlanConfig,
        overrides: dict[str, dict[str, Any]] | None = None,
        progress: Callable[[str], None] = lambda message: None,
    ):
        self.config = config
        self.overrides = overrides or {}
        self.progress = progress
        self._contexts: dict[str, Context] = {}
        self._lock = threading.Lock()

    def context(self, provider_name: str) -> Context:
        with self._lock:
            if provider_name not in self._contexts:
                self._contexts[provider_name] = self._configure(provider_name)
            return self._contexts[provider_name]

    def _configure(self, name: str) -> Context:
        provider = registry.provider(name)
        raw = {**self.config.providers.get(name, {}), **self.overrides.get(name, {})}
        try:
            settings = provider.Settings.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            location = self.config.positions.of(("providers", name, *error["loc"])) or self.config.positions.of(("providers", name))
            raise ConfigError(f"{field}: {error['msg']}", location, f"provider {name}") from None
        for key in provider.Settings.fields_with("sensitive"):
            secrets.register(getattr(settings, key, None))
        return Context(client=provider.client(settings), settings=settings, progress=self.progress)

    def close(self) -> None:
        for context in self._contexts.values():
            close = getattr(context.client, "close", None)
            if close:
                close()
