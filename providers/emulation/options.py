"""The knobs every emulator honours, in one object tests and the sandbox fill in.

The defaults make a quiet, exact server: no latency, no faults, a frozen clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from providers.emulation.clock import Clock


@dataclass
class EmulatorOptions:
    latency: float = 0.0
    failure_rate: float = 0.0
    failure_kinds: tuple[str, ...] = ("429", "500", "drop")
    retry_after: int = 1
    page_size: int = 20
    seed: int = 7
    clock: Clock = field(default_factory=lambda: Clock(speed=0))
    # Seconds of virtual time a run / async job takes to finish.
    job_duration: float = 60.0
    # Share (0..1) of simulated test cases that fail, drawn from ``seed``.
    failure_share: float = 0.0
    # Where the store persists (the sandbox); None keeps everything in memory (tests).
    data_file: Path | None = None
    # Credentials the emulator accepts; each cloud reads the keys it knows.
    credentials: dict[str, str] = field(default_factory=dict)
