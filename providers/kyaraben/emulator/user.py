"""GET /user/whoami, GET /user/quota, GET /images."""

from __future__ import annotations

from providers.kyaraben.emulator.replies import answer
from providers.kyaraben.emulator.world import IMAGES


class UserRoutes:
    def user_endpoints(self):
        return [
            ("GET", "/user/whoami", self.whoami),
            ("GET", "/user/quota", self.read_quota),
            ("GET", "/images", self.list_images),
        ]

    async def whoami(self, request):
        return answer({"user": {"userid": self.user(request)}})

    async def read_quota(self, request):
        with self.store.lock:
            return answer({"quota": self.world.quota(self.user(request))})

    async def list_images(self, request):
        return answer({"images": IMAGES})
