"""``KyarabenBase``: what every group of kyaraben endpoints uses, in one class they all extend.

Each endpoint group (user.py, projects.py, ...) is a mixin over this base, so
the state and helpers they share (the variants, the timeline, the request's
user and body) are declared once and the type checker sees them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request

from labform.providers.emulation import Emulator, EmulatorOptions, Handler, Validators, virtual_datetime
from labform.providers.kyaraben.emulator.timeline import Timeline
from labform.providers.kyaraben.emulator.variants import DEFAULT, Variants
from labform.providers.kyaraben.emulator.world import World, error, initial_data

Endpoint = tuple[str, str, Handler]

check = Validators(lambda problem: error(400, str(problem)))


class KyarabenBase(Emulator):
    def __init__(self, options: EmulatorOptions, variants: Variants = DEFAULT):
        self.variants = variants
        self.timeline = Timeline(options.job_duration)
        self.check = check
        super().__init__(options)

    @property
    def world(self) -> World:
        return World(self.data, self.timeline, self.variants, self.now)

    def initial_data(self) -> dict[str, Any]:
        return initial_data()

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    @staticmethod
    def user(request: Request) -> str:
        return request.state.user

    @staticmethod
    async def body(request: Request) -> dict[str, Any]:
        """The request's JSON object (httpie's ``key=value``); a form is read too."""
        if "form" in request.headers.get("content-type", ""):
            return dict(await request.form())
        raw = await request.body()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise error(400, "malformed request: the body is not JSON") from None
        if not isinstance(value, dict):
            raise error(400, "malformed request: the body must be a JSON object")
        return value

    def timestamp(self, seconds: float) -> str:
        moment: datetime = virtual_datetime(seconds)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
