"""Serve an emulator for real: uvicorn on a loopback port, in a daemon thread.

Tests and the sandbox talk to emulators over HTTP, exactly as labform talks to
a cloud; nothing is mocked.

    with EmulatorServer(app) as server:
        httpx.get(server.url + "/api/v2/devices")
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _PromptServer(uvicorn.Server):
    """uvicorn looks for a stop request every 0.1 s; a test suite starts and stops an emulator
    a thousand times, so this one looks every 10 ms (its once-a-second chores still run)."""

    async def main_loop(self) -> None:
        ticks = 0
        while not await self.on_tick(ticks // 10):  # the counter uvicorn's own loop would pass
            ticks += 1
            await asyncio.sleep(0.01)


class EmulatorServer:
    def __init__(self, app: ASGIApp, port: int | None = None):
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical", access_log=False)
        self._server = _PromptServer(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name=f"emulator:{self.port}")

    def start(self) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"emulator failed to start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
