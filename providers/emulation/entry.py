"""``EmulatorEntry``: all the sandbox and the tests need to know about a cloud's emulator.

Each cloud's emulator module exports ``SANDBOX = EmulatorEntry(...)`` and
``providers/registry.py`` names it by import path, so the provider itself
never mentions its emulator and production code never imports one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labform.providers.emulation.app import EmulatorApp
    from labform.providers.emulation.options import EmulatorOptions


@dataclass(frozen=True)
class EmulatorEntry:
    build_app: Callable[[EmulatorOptions], EmulatorApp]
    # Settings that point the cloud's provider at an emulator served at this
    # base URL (sandbox credentials included).
    provider_settings: Callable[[str], dict[str, Any]]
    # Settings a named doc variant needs besides (a header only it reads): merged over those.
    variant_settings: Callable[[str], dict[str, Any]] = lambda variant: {}
