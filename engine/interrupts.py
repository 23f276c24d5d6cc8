"""SIGINT/SIGTERM during an apply: stop cleanly first, stop at once second.

The first signal starts no new change and stops long waits (the cloud's work
goes on; the next apply waits for it again), lets calls in flight finish —
each is bounded by its HTTP timeout — and the apply writes its journal and
state, releases the lock and prints its summary; the command exits 130
(SIGINT) or 143 (SIGTERM). A second signal exits at once: every record the
journal holds was fsynced when it was written, and a half-written last line
is ignored on load, so what it leaves still loads.

    with Interruption() as stop:
        outcome = runner.apply(ws, options, stop=stop)
"""

from __future__ import annotations

import os
import signal
import sys
import threading

EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}


class Interruption(threading.Event):
    """Set by the first SIGINT/SIGTERM; ``reason`` names it."""

    def __init__(self) -> None:
        super().__init__()
        self.reason: str | None = None
        self._previous: dict[int, signal._HANDLER] = {}

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.reason or "", 1)

    def __enter__(self) -> Interruption:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._received)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _received(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if self.is_set():
            print(
                f"\n{name} again: stopping now; the journal keeps everything recorded so far.",
                file=sys.stderr,
                flush=True,
            )
            os._exit(EXIT_CODES.get(name, 1))
        self.reason = name
        print(
            f"\n{name} received: no new changes will start; waiting for those in flight to finish "
            "(send it again to stop at once).",
            file=sys.stderr,
            flush=True,
        )
        self.set()
