"""One cloud's emulator in a process of its own, for the benchmarks: latency set per case, requests counted;
and labform run against it, as a process of its own too (``labform``), timed from outside.

labform and the emulator must not share a process (or a GIL) when labform is
timed, so ``EmulatorProcess`` starts this file as a script. The script serves
the cloud's emulator from memory (nothing persisted: a store saved after each
write would time the emulator's disk, not labform) and takes commands on its
standard input, one a line, answering ``ok``:

    latency SECONDS     every answer from now on is delayed this long
    advance SECONDS     move the emulator's clock on (runs progress)

    with EmulatorProcess("bitbar", job_seconds=3600) as cloud:
        cloud.set_latency(0.05)
        subprocess.run([...labform...], env=cloud.environment())
        requests = cloud.requests()      # every request since the start, as the emulator logged it
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from labform.providers.emulation.app import INSPECTION_HEADER

ROOT = Path(__file__).resolve().parents[1]
CONTROL = "/_emulator"
# The variables the benchmark plans read their provider settings from.
ENVIRONMENT = {"bitbar": {"endpoint": "BITBAR_URL", "api_key": "BITBAR_API_KEY"}}
BITBAR = "providers:\n  bitbar:\n    endpoint: ${env.BITBAR_URL}\n    api_key: ${env.BITBAR_API_KEY}\n"


class EmulatorProcess:
    def __init__(self, cloud: str, job_seconds: float = 60.0):
        self.cloud = cloud
        self.job_seconds = job_seconds
        self.url = ""
        self.settings: dict[str, Any] = {}
        self.token = ""  # what the emulator's control endpoints ask for (INSPECTION_HEADER)

    def __enter__(self) -> EmulatorProcess:
        command = [sys.executable, __file__, self.cloud, str(self.job_seconds)]
        self._process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.url, self.token, settings = self._process.stdout.readline().split(None, 2)
        self.settings = json.loads(settings)
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=30)

    def _command(self, line: str) -> None:
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()
        assert self._process.stdout.readline().strip() == "ok", line

    def set_latency(self, seconds: float) -> None:
        self._command(f"latency {seconds}")

    def advance(self, seconds: float) -> None:
        self._command(f"advance {seconds}")

    def requests(self) -> list[dict[str, Any]]:
        """Every request the emulator answered so far: method, path, query, status, started, finished."""
        return httpx.get(self.url + CONTROL + "/requests", headers={INSPECTION_HEADER: self.token}, timeout=120).json()

    def environment(self) -> dict[str, str]:
        """The process environment a benchmark plan finds this emulator through."""
        names = ENVIRONMENT[self.cloud]
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            **{names[key]: str(value) for key, value in self.settings.items() if key in names},
        }


def labform(cloud: EmulatorProcess, *args: str, ok: tuple[int, ...] = (0, 2), checkout: Path = ROOT) -> float:
    """Run ``python -m labform.engine ARGS`` (from ``checkout``: another version's tree) against ``cloud``;
    its wall time in seconds (it must exit with one of ``ok``)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "labform.engine", *args],
        cwd=checkout,
        env=cloud.environment(),
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    if done.returncode not in ok:
        raise RuntimeError(
            f"labform {' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return elapsed


def serve(cloud: str, job_seconds: float) -> None:
    from labform.providers import registry
    from labform.providers.emulation import Clock, EmulatorOptions, EmulatorServer

    entry = registry.emulator(cloud)
    options = EmulatorOptions(clock=Clock(speed=0), job_duration=job_seconds, retry_after=0)
    app = entry.build_app(options)
    with EmulatorServer(app) as server:
        print(server.url, app.inspection_token, json.dumps(entry.provider_settings(server.url)), flush=True)
        for line in sys.stdin:
            word, value = line.split()
            if word == "latency":
                options.latency = float(value)
            elif word == "advance":
                app.clock.advance(float(value))
            print("ok", flush=True)


if __name__ == "__main__":
    serve(sys.argv[1], float(sys.argv[2]))
