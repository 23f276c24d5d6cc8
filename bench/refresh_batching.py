"""How many requests and how long a plan's refresh takes for many objects.

Creates N config parameters in one project with labform, then re-plans with
the emulator answering each request after LATENCY seconds (a stand-in for a
real network). Refresh reads them through the paged list endpoint, so the
request count grows with pages, not with objects.

    python bench/refresh_batching.py [N] [LATENCY]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main as labform
from providers.bitbar import emulator
from providers.emulation import Clock, EmulatorOptions, EmulatorServer


def plan_text(url: str, count: int) -> str:
    parameters = "".join(
        f"  bitbar_config_parameter.p{i}:\n    project: ${{bitbar_project.bench.id}}\n    key: key{i}\n    value: v{i}\n"
        for i in range(count)
    )
    return (
        f"providers:\n  bitbar:\n    endpoint: {url}\n    api_key: {emulator.SANDBOX_API_KEY}\n"
        f"resources:\n  bitbar_project.bench:\n    name: bench\n    type: ANDROID\n{parameters}"
    )


def main(count: int, latency: float) -> None:
    options = EmulatorOptions(clock=Clock(speed=0))
    app = emulator.build_app(options)
    with EmulatorServer(app) as server, tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "main.yaml"
        plan.write_text(plan_text(server.url, count))
        started = time.monotonic()
        result = CliRunner().invoke(labform, ["apply", folder, "--auto-approve"])
        assert result.exit_code == 0, result.output
        applied = time.monotonic() - started
        options.latency = latency
        app.log.clear()
        started = time.monotonic()
        result = CliRunner().invoke(labform, ["plan", folder, "--detailed-exitcode"])
        assert result.exit_code == 0, result.output
        planned = time.monotonic() - started
        requests = len(app.log.all())
    print(f"{count} parameters: apply {applied:.1f}s (parallelism 10); "
          f"plan with {latency * 1000:.0f} ms latency: {requests} requests, {planned:.2f}s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, float(sys.argv[2]) if len(sys.argv) > 2 else 0.05)
