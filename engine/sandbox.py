"""The sandbox as the engine sees it: where its data lives, and starting it.

``--sandbox`` on plan/apply/destroy serves the emulators the plan uses in this
process and points the providers at them; their data is kept in a folder
beside the state, so a second ``apply --sandbox`` sees what the first made.
``labform sandbox`` serves them until interrupted, tuned by its flags (faults,
latency, seed, job length, doc variants) so plans can be rehearsed against a
flaky cloud. The emulators' control endpoints (request log, store, clock)
need the sandbox's ``inspection_token``, unless it was started open.

The emulator kit (``providers/emulation``: Starlette, uvicorn, every cloud's
emulator) is imported only when a sandbox starts, so ``labform validate`` and
``labform --help`` never load it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol


class Sandbox(Protocol):
    """What the engine uses of a running sandbox (``providers.emulation.sandbox.Sandbox``)."""

    servers: dict[str, Any]
    # The token every served emulator's control endpoints ask for; None when they are open.
    inspection_token: str | None

    def settings(self) -> dict[str, dict[str, Any]]:
        """Each served cloud's provider settings, pointing at its emulator."""
        ...

    def describe(self) -> str:
        """How the emulators behave (faults, timing, variants) and where their data is kept, in words."""
        ...


def sandbox_dir(state_path: Path) -> Path:
    return state_path.with_name(state_path.name.removesuffix(".json") + ".sandbox")


@contextmanager
def start_sandbox(
    clouds: Iterable[str],
    data_dir: Path | None,
    port_base: int | None = None,
    tuning: Mapping[str, Any] | None = None,
    open_inspection: bool = False,
) -> Iterator[Sandbox]:
    """Serve the emulators of ``clouds`` (those that have one) until the block ends.

    ``tuning`` is what ``labform sandbox`` flags set (the fields of
    ``providers.emulation.sandbox.Tuning``: failure_rate, failure_kinds,
    latency, seed, job_seconds, variants); a value it refuses is a ValueError.
    ``open_inspection`` serves the control endpoints without the token.
    """
    from providers.emulation.sandbox import Sandbox as Running
    from providers.emulation.sandbox import Tuning

    with Running(clouds, data_dir, port_base, Tuning(**(tuning or {})), open_inspection) as running:
        yield running
