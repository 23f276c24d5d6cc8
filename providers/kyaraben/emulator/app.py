"""The kyaraben server: the doc's endpoints behind its user header, on the emulator kit.

kyaraben trusts ``X-Auth-UserId`` (an authentication proxy sits in front of
it): without the header every endpoint answers the doc's 401 but GET /images,
whose list is the same for every user (a variant reads its copied header line
strictly); with it, any user id is a user (the doc: an unknown user simply
has nothing). Each group
of endpoints lives in its own module as a mixin over ``KyarabenBase``
(base.py); this class joins them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from labform.providers.emulation import Handler
from labform.providers.kyaraben.emulator.android import AndroidRoutes
from labform.providers.kyaraben.emulator.base import Endpoint
from labform.providers.kyaraben.emulator.campaigns import CampaignRoutes
from labform.providers.kyaraben.emulator.files import FileRoutes
from labform.providers.kyaraben.emulator.projects import ProjectRoutes
from labform.providers.kyaraben.emulator.testsources import TestSourceRoutes
from labform.providers.kyaraben.emulator.user import UserRoutes
from labform.providers.kyaraben.emulator.world import error

USER_HEADER = "X-Auth-UserId"


class KyarabenEmulator(UserRoutes, ProjectRoutes, FileRoutes, TestSourceRoutes, CampaignRoutes, AndroidRoutes):
    name = "kyaraben"

    def routes(self) -> list[BaseRoute]:
        endpoints: list[Endpoint] = [
            *self.user_endpoints(),
            *self.project_endpoints(),
            *self.file_endpoints(),
            *self.testsource_endpoints(),
            *self.campaign_endpoints(),
            *self.android_endpoints(),
        ]
        return [
            Route(path, self._authenticated(handler, self._needs_user(path)), methods=[method])
            for method, path, handler in endpoints
        ]

    def _needs_user(self, path: str) -> bool:
        """GET /images names no user's object: its "X-Auth-UserId – a user who has access to the AVM"
        line (with an avm_id parameter it has not) is a VM endpoint's, copied."""
        return path != "/images" or self.variants.images_need_user

    @staticmethod
    def _authenticated(handler: Handler, needs_user: bool) -> Handler:
        async def guarded(request: Request) -> Response:
            user = request.headers.get(USER_HEADER, "").strip()
            if not user and needs_user:
                raise error(401, "Missing authentication header")
            request.state.user = user
            return await handler(request)

        return guarded
