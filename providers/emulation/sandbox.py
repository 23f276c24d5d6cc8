"""The sandbox: the named clouds' emulators on loopback, and the provider settings that reach them.

Started by ``--sandbox`` and ``labform sandbox`` (through ``engine/sandbox.py``,
which imports this only then). Async work runs on wall time with short
durations, so demos finish in seconds; data kept in ``data_dir`` lets a
second ``apply --sandbox`` see what the first made.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterable

from providers import registry
from providers.emulation.clock import VIRTUAL_EPOCH, Clock
from providers.emulation.options import EmulatorOptions
from providers.emulation.server import EmulatorServer

DEFAULT_JOB_SECONDS = 4.0


def sandbox_options(data_dir: Path | None, cloud: str) -> EmulatorOptions:
    return EmulatorOptions(
        # Wall time since the emulators' epoch: runs started by an earlier
        # command keep progressing, and their timestamps read as today.
        clock=Clock(speed=1.0, start=time.time() - VIRTUAL_EPOCH.timestamp()),
        job_duration=float(os.environ.get("LABFORM_SANDBOX_JOB_SECONDS", DEFAULT_JOB_SECONDS)),
        failure_share=float(os.environ.get("LABFORM_SANDBOX_FAILURE_SHARE", "0")),
        data_file=(data_dir / f"{cloud}.json") if data_dir else None,
    )


class Sandbox:
    """Serve the emulators of ``clouds`` (those that have one) while the ``with`` block runs."""

    def __init__(self, clouds: Iterable[str], data_dir: Path | None, port_base: int | None = None):
        self.clouds = sorted(set(clouds) & set(registry.emulator_names()))
        self.data_dir = data_dir
        self.port_base = port_base
        self.servers: dict[str, EmulatorServer] = {}
        self._stack = ExitStack()

    def __enter__(self) -> "Sandbox":
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        for index, cloud in enumerate(self.clouds):
            app = registry.emulator(cloud).build_app(sandbox_options(self.data_dir, cloud))
            port = self.port_base + index if self.port_base else None
            self.servers[cloud] = self._stack.enter_context(EmulatorServer(app, port=port))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def settings(self) -> dict[str, dict[str, Any]]:
        """Each running cloud's provider settings, pointing at its emulator."""
        return {cloud: registry.emulator(cloud).provider_settings(server.url) for cloud, server in self.servers.items()}
