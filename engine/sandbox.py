"""The sandbox as the engine sees it: where its data lives, and starting it.

``--sandbox`` on plan/apply/destroy serves the emulators the plan uses in this
process and points the providers at them; their data is kept in a folder
beside the state, so a second ``apply --sandbox`` sees what the first made.
``labform sandbox`` serves them until interrupted, tuned by its flags (faults,
latency, seed, job length, the share of tests that fail, doc variants) so plans
can be rehearsed against a flaky cloud; ``--sandbox`` takes the same knobs but
the variants. It listens on loopback unless told where (``--listen``): the
emulators accept their printed sandbox credentials from anyone who reaches them.
The emulators' control endpoints (request log, store, clock) need the sandbox's
``inspection_token``, unless it was started open.

The emulator kit (``providers/emulation``: Starlette, uvicorn, every cloud's
emulator) is imported only when a sandbox starts, so ``labform validate`` and
``labform --help`` never load it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Protocol

from labform.engine.errors import LabformError

LOOPBACK = "127.0.0.1"


class Sandbox(Protocol):
    """What the engine uses of a running sandbox (``labform.providers.emulation.sandbox.Sandbox``)."""

    servers: dict[str, Any]
    # The token every served emulator's control endpoints ask for; None when they are open.
    inspection_token: str | None

    def settings(self) -> dict[str, dict[str, Any]]:
        """Each served cloud's provider settings, pointing at its emulator."""
        ...

    def describe(self) -> str:
        """How the emulators behave (faults, timing, variants) and where their data is kept, in words."""
        ...


def is_loopback(host: str) -> bool:
    """Whether only this machine reaches ``host``: a loopback address, or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may well resolve to an address others reach
        return False


def sandbox_dir(state_path: Path) -> Path:
    return state_path.with_name(state_path.name.removesuffix(".json") + ".sandbox")


@contextmanager
def start_sandbox(
    clouds: Iterable[str],
    data_dir: Path | None,
    port_base: int | None = None,
    tuning: Mapping[str, Any] | None = None,
    open_inspection: bool = False,
    listen: str = LOOPBACK,
) -> Iterator[Sandbox]:
    """Serve the emulators of ``clouds`` (those that have one) on ``listen`` until the block ends.

    ``tuning`` is what the sandbox flags set (the fields of
    ``labform.providers.emulation.sandbox.Tuning``: failure_rate, failure_kinds,
    latency, seed, job_seconds, test_failure_share, variants); a value it
    refuses is a LabformError naming it. ``open_inspection`` serves the
    control endpoints without the token.
    """
    from labform.providers.emulation.sandbox import Sandbox as Running
    from labform.providers.emulation.sandbox import Tuning

    try:
        running = Running(clouds, data_dir, port_base, Tuning(**(tuning or {})), open_inspection, listen)
    except ValueError as exc:  # a variant the emulator lacks, one for a cloud not served, an unknown fault kind
        raise LabformError(f"sandbox: {exc}") from None
    with ExitStack() as serving:
        try:
            serving.enter_context(running)
        except (RuntimeError, OSError) as exc:  # a port taken, an address this machine does not have
            raise LabformError(f"sandbox: {exc}") from None
        yield running
