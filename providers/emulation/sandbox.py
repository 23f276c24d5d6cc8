"""The sandbox: the named clouds' emulators on loopback, and the provider settings that reach them.

Started by ``--sandbox`` and ``labform sandbox`` (through ``engine/sandbox.py``,
which imports this only then). Async work runs on wall time with short
durations, so demos finish in seconds; data kept in ``data_dir`` lets a
second ``apply --sandbox`` see what the first made.

``labform sandbox`` (and ``--sandbox``) also take a ``Tuning``: faults of every
kind at a rate, latency, the seed, job length, the share of simulated tests that
fail and doc variants, so a user can rehearse their own plans against a cloud
that drops, refuses and garbles answers or fails tests, and the crash and fault
harnesses can run against a sandbox in its own process. It serves on loopback
unless given another address to listen on.

Every served emulator's control endpoints (request log, store, clock) take the
sandbox's one ``inspection_token``, made at start and printed by ``labform
sandbox``; ``open_inspection`` serves them to anyone on loopback instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from labform.providers import registry
from labform.providers.emulation.app import inspection_token
from labform.providers.emulation.clock import VIRTUAL_EPOCH, Clock
from labform.providers.emulation.options import ALL_FAULTS, EmulatorOptions, check_failure_kinds
from labform.providers.emulation.server import LOOPBACK, EmulatorServer

DEFAULT_JOB_SECONDS = 4.0


@dataclass(frozen=True)
class Tuning:
    """How every served emulator behaves; the defaults are ``--sandbox``'s quiet, exact server."""

    failure_rate: float = 0.0
    # --failure-rate draws from every kind, before and after the handler (options.py).
    failure_kinds: tuple[str, ...] = ALL_FAULTS
    latency: float = 0.0
    seed: int = EmulatorOptions.seed
    # None: LABFORM_SANDBOX_JOB_SECONDS, else DEFAULT_JOB_SECONDS.
    job_seconds: float | None = None
    # cloud -> a name in its providers/<cloud>/emulator/variants.py VARIANTS.
    variants: Mapping[str, str] = field(default_factory=dict)
    # Share of simulated tests that fail; None: LABFORM_SANDBOX_FAILURE_SHARE, else none.
    test_failure_share: float | None = None
    # Share of simulated tests that are flaky (each attempt fails with probability 0.3).
    flaky_rate: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.failure_rate <= 1:
            raise ValueError(f"the failure rate must be between 0 and 1, not {self.failure_rate}")
        if self.latency < 0:
            raise ValueError(f"the latency cannot be negative ({self.latency}s)")
        if self.job_seconds is not None and self.job_seconds <= 0:
            raise ValueError(f"a job must take some time, not {self.job_seconds}s")
        if not 0 <= self.failure_share() <= 1:
            raise ValueError(f"the share of failing tests must be between 0 and 1, not {self.failure_share()}")
        if not 0 <= self.flaky_rate <= 1:
            raise ValueError(f"the share of flaky tests must be between 0 and 1, not {self.flaky_rate}")
        check_failure_kinds(self.failure_kinds)

    def job_duration(self) -> float:
        if self.job_seconds is not None:
            return self.job_seconds
        return float(os.environ.get("LABFORM_SANDBOX_JOB_SECONDS", DEFAULT_JOB_SECONDS))

    def failure_share(self) -> float:
        if self.test_failure_share is not None:
            return self.test_failure_share
        return float(os.environ.get("LABFORM_SANDBOX_FAILURE_SHARE", "0"))

    def describe(self) -> str:
        """The settings in words, for the line ``labform sandbox`` prints."""
        parts = [
            f"{self.failure_rate:.0%} of requests faulted ({', '.join(self.failure_kinds)})"
            if self.failure_rate
            else "no faults"
        ]
        parts.append(f"seed {self.seed}")
        if self.latency:
            parts.append(f"latency {self.latency * 1000:g}ms")
        parts.append(f"jobs take {self.job_duration():g}s")
        if self.failure_share():
            parts.append(f"{self.failure_share():.0%} of simulated tests fail")
        if self.flaky_rate:
            parts.append(f"{self.flaky_rate:.0%} of simulated tests are flaky")
        parts += [f"{cloud} variant {name}" for cloud, name in sorted(self.variants.items())]
        return "; ".join(parts)


def variants_of(cloud: str) -> Mapping[str, Any]:
    """The doc variants a cloud's emulator offers by name (its ``emulator/variants.py``), or none."""
    module = f"labform.providers.{cloud}.emulator.variants"
    try:
        return import_module(module).VARIANTS
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return {}
        raise


def sandbox_options(data_dir: Path | None, cloud: str, tuning: Tuning = Tuning()) -> EmulatorOptions:
    return EmulatorOptions(
        # Wall time since the emulators' epoch: runs started by an earlier
        # command keep progressing, and their timestamps read as today.
        clock=Clock(speed=1.0, start=time.time() - VIRTUAL_EPOCH.timestamp()),
        job_duration=tuning.job_duration(),
        failure_share=tuning.failure_share(),
        flaky_rate=tuning.flaky_rate,
        failure_rate=tuning.failure_rate,
        failure_kinds=tuning.failure_kinds,
        latency=tuning.latency,
        seed=tuning.seed,
        data_file=(data_dir / f"{cloud}.json") if data_dir else None,
    )


class Sandbox:
    """Serve the emulators of ``clouds`` (those that have one) while the ``with`` block runs."""

    def __init__(
        self,
        clouds: Iterable[str],
        data_dir: Path | None,
        port_base: int | None = None,
        tuning: Tuning = Tuning(),
        open_inspection: bool = False,
        host: str = LOOPBACK,
    ):
        self.clouds = sorted(set(clouds) & set(registry.emulator_names()))
        self.host = host
        self.data_dir = data_dir
        self.port_base = port_base
        self.tuning = tuning
        # What the control endpoints of every served emulator ask for; None: they are open.
        self.inspection_token: str | None = None if open_inspection else inspection_token()
        self.servers: dict[str, EmulatorServer] = {}
        self._stack = ExitStack()
        for cloud, name in tuning.variants.items():
            self._check_variant(cloud, name)

    def _check_variant(self, cloud: str, name: str) -> None:
        if cloud not in self.clouds:
            raise ValueError(
                f"a variant for {cloud}, which is not served (serving {', '.join(self.clouds) or 'nothing'})"
            )
        known = variants_of(cloud)
        if not known:
            raise ValueError(f"the {cloud} emulator has no doc variants")
        if name not in known:
            raise ValueError(f"the {cloud} emulator has no variant {name!r}: expected one of {', '.join(known)}")

    def __enter__(self) -> Sandbox:
        if self.data_dir:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        for index, cloud in enumerate(self.clouds):
            self.servers[cloud] = self._stack.enter_context(
                EmulatorServer(
                    self._build(cloud), port=self.port_base + index if self.port_base else None, host=self.host
                )
            )
        return self

    def _build(self, cloud: str) -> Any:
        build_app, options = registry.emulator(cloud).build_app, sandbox_options(self.data_dir, cloud, self.tuning)
        if cloud in self.tuning.variants:  # an emulator with variants takes one by name (see its __init__)
            app = build_app(options, variant=self.tuning.variants[cloud])
        else:
            app = build_app(options)
        app.inspection_token = self.inspection_token
        return app

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def settings(self) -> dict[str, dict[str, Any]]:
        """Each running cloud's provider settings, pointing at its emulator."""
        settings = {}
        for cloud, server in self.servers.items():
            entry = registry.emulator(cloud)
            variant = self.tuning.variants.get(cloud)
            settings[cloud] = {
                **entry.provider_settings(server.url),
                **(entry.variant_settings(variant) if variant else {}),
            }
        return settings

    def describe(self) -> str:
        """How the emulators behave (faults, timing, variants) and where their data is kept, in words."""
        kept = f"; data in {self.data_dir}" if self.data_dir else ""
        return self.tuning.describe() + kept
