"""``Emulator``: what every cloud's emulator opens with, written once.

A subclass names the cloud, seeds its store, says how its errors look and
lists its routes; the base holds the options, the clock, the store, the
request log and the uploads folder, and builds the ``EmulatorApp``::

    class WidgetEmulator(Emulator):
        name = "widget"

        def initial_data(self):
            return {"widgets": {}}

        def error_body(self, status, message):
            return {"code": status, "message": message}

        def routes(self):
            return [Route("/widgets", self.list_widgets, methods=["GET"])]

    app = WidgetEmulator(EmulatorOptions()).app()
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from labform.providers.emulation.app import EmulatorApp
from labform.providers.emulation.options import EmulatorOptions
from labform.providers.emulation.rejections import Rejection, as_json
from labform.providers.emulation.requestlog import RequestLog
from labform.providers.emulation.store import JsonStore
from labform.providers.emulation.uploads import upload_directory


class Emulator:
    name: ClassVar[str]

    def __init__(self, options: EmulatorOptions):
        self.options = options
        self.clock = options.clock
        self.store = JsonStore(options.data_file, self.initial_data)
        self.log = RequestLog()

    @property
    def data(self) -> dict[str, Any]:
        return self.store.data

    def now(self) -> float:
        """Virtual seconds on the options' clock: what every timeline is read against."""
        return self.clock.now()

    @cached_property
    def uploads(self) -> Path:
        """The folder uploaded files go to, made on first use."""
        return upload_directory(self.options, self.name)

    # ---- what a cloud provides

    def initial_data(self) -> dict[str, Any]:
        """The seeded store of a new emulator (a persisted one is read back instead)."""
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        """The cloud's error body for an error the kit makes up (an injected 429 or 500)."""
        raise NotImplementedError

    def routes(self) -> list[BaseRoute]:
        raise NotImplementedError

    def render(self, request: Request, rejection: Rejection) -> Response:
        """How a ``Rejection`` goes on the wire: JSON unless the cloud says otherwise."""
        return as_json(request, rejection)

    def app(self) -> EmulatorApp:
        return EmulatorApp(self.name, self.routes(), self.options, self.store, self.log, self.error_body, self.render)
