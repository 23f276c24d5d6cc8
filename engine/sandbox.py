"""The sandbox: every cloud's emulator served on loopback, no account needed.

``--sandbox`` on plan/apply/destroy starts the emulators the plan uses in this
process and points the providers at them. Their data is kept in a folder
beside the state, so a second ``apply --sandbox`` sees what the first made.
Async work runs on wall time with short durations, so demos finish in seconds.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from providers import registry
from providers.emulator_helpers import VIRTUAL_EPOCH
from providers.emulator_kit import Clock, EmulatorOptions, EmulatorServer

DEFAULT_JOB_SECONDS = 4.0


def sandbox_dir(state_path: Path) -> Path:
    return state_path.with_name(state_path.name.removesuffix(".json") + ".sandbox")


def job_seconds() -> float:
    return float(os.environ.get("LABFORM_SANDBOX_JOB_SECONDS", DEFAULT_JOB_SECONDS))


def sandbox_options(data_dir: Path | None, cloud: str) -> EmulatorOptions:
    return EmulatorOptions(
        # Wall time since the emulators' epoch: runs started by an earlier
        # command keep progressing, and their timestamps read as today.
        clock=Clock(speed=1.0, start=time.time() - VIRTUAL_EPOCH.timestamp()),
        job_duration=job_seconds(),
        failure_share=float(os.environ.get("LABFORM_SANDBOX_FAILURE_SHARE", "0")),
        data_file=(data_dir / f"{cloud}.json") if data_dir else None,
    )


class Sandbox:
    """Start the named clouds' emulators; ``settings`` points providers at them."""

    def __init__(self, clouds: set[str], data_dir: Path | None, port_base: int | None = None):
        self.clouds = sorted(c for c in clouds if c in registry.provider_names())
        self.data_dir = data_dir
        self.port_base = port_base
        self.servers: dict[str, EmulatorServer] = {}
        self._stack = ExitStack()

    def __enter__(self) -> "Sandbox":
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        for index, cloud in enumerate(self.clouds):
            app = registry.provider(cloud).build_emulator(sandbox_options(self.data_dir, cloud))
            port = self.port_base + index if self.port_base else None
            self.servers[cloud] = self._stack.enter_context(EmulatorServer(app, port=port))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def settings(self) -> dict[str, dict[str, Any]]:
        return {cloud: registry.provider(cloud).sandbox_settings(server.url) for cloud, server in self.servers.items()}
