"""The kyaraben server: the doc's endpoints behind its user header, on the emulator kit.

kyaraben trusts ``X-Auth-UserId`` (an authentication proxy sits in front of
it): without the header every endpoint answers the doc's 401; with it, any
user id is a user (the doc: an unknown user simply has nothing). Each group
of endpoints lives in its own module as a mixin; this class joins them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.emulation import Emulator, EmulatorOptions, Validators, virtual_datetime
from providers.kyaraben.emulator.android import AndroidRoutes
from providers.kyaraben.emulator.campaigns import CampaignRoutes
from providers.kyaraben.emulator.files import FileRoutes
from providers.kyaraben.emulator.projects import ProjectRoutes
from providers.kyaraben.emulator.testsources import TestSourceRoutes
from providers.kyaraben.emulator.timeline import Timeline
from providers.kyaraben.emulator.user import UserRoutes
from providers.kyaraben.emulator.variants import DEFAULT, Variants
from providers.kyaraben.emulator.world import World, error, initial_data

USER_HEADER = "X-Auth-UserId"
Handler = Callable[[Request], Awaitable[Response]]
Endpoint = tuple[str, str, Handler]

check = Validators(lambda problem: error(400, str(problem)))


class KyarabenEmulator(
    UserRoutes, ProjectRoutes, FileRoutes, TestSourceRoutes, CampaignRoutes, AndroidRoutes, Emulator
):
    name = "kyaraben"

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

    def routes(self) -> list[Route]:
        endpoints: list[Endpoint] = [
            *self.user_endpoints(),
            *self.project_endpoints(),
            *self.file_endpoints(),
            *self.testsource_endpoints(),
            *self.campaign_endpoints(),
            *self.android_endpoints(),
        ]
        return [Route(path, self._authenticated(handler), methods=[method]) for method, path, handler in endpoints]

    # --- what every handler uses ------------------------------------------------------
    @staticmethod
    def _authenticated(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            user = request.headers.get(USER_HEADER, "").strip()
            if not user:
                raise error(401, "Missing authentication header")
            request.state.user = user
            return await handler(request)

        return guarded

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
