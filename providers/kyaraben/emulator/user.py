"""GET /user/whoami, GET /user/quota, GET /images."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.kyaraben.emulator.base import Endpoint, KyarabenBase
from labform.providers.kyaraben.emulator.replies import answer
from labform.providers.kyaraben.emulator.world import IMAGES


class UserRoutes(KyarabenBase):
    def user_endpoints(self) -> list[Endpoint]:
        return [
            ("GET", "/user/whoami", self.whoami),
            ("GET", "/user/quota", self.read_quota),
            ("GET", "/images", self.list_images),
        ]

    async def whoami(self, request: Request) -> Response:
        return answer({"user": {"userid": self.user(request)}})

    async def read_quota(self, request: Request) -> Response:
        with self.store.lock:
            return answer({"quota": self.world.quota(self.user(request))})

    async def list_images(self, request: Request) -> Response:
        return answer({"images": IMAGES})
