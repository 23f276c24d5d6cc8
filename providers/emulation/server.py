"""Serve an emulator for real: uvicorn on a loopback port (or the address given), in a daemon thread.

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

LOOPBACK = "127.0.0.1"
# Addresses that mean "every interface": the emulator's URL then names loopback, which reaches it too.
_EVERY_INTERFACE = ("0.0.0.0", "::", "")


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def url_host(host: str) -> str:
    """``host`` as a URL names it: loopback for every interface, an IPv6 address in brackets."""
    if host in _EVERY_INTERFACE:
        return LOOPBACK
    return f"[{host}]" if ":" in host else host


class _PromptServer(uvicorn.Server):
    """uvicorn looks for a stop request every 0.1 s; a test suite starts and stops an emulator
    a thousand times, so this one looks every 10 ms (its once-a-second chores still run)."""

    async def main_loop(self) -> None:
        ticks = 0
        while not await self.on_tick(ticks // 10):  # the counter uvicorn's own loop would pass
            ticks += 1
            await asyncio.sleep(0.01)


class EmulatorServer:
    def __init__(self, app: ASGIApp, port: int | None = None, host: str = LOOPBACK):
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{url_host(host)}:{self.port}"
        config = uvicorn.Config(app, host=host, port=self.port, log_level="critical", access_log=False)
        self._server = _PromptServer(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name=f"emulator:{self.port}")

    def start(self) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"emulator failed to start on {self.host} port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
