"""Handlers of Notifications: e-mail on every run or on failures, for all projects or one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.errors import api_error, check
from labform.providers.bitbar.emulator.seed import ID_STARTS
from labform.providers.bitbar.emulator.views import BitbarViews
from labform.providers.bitbar.emulator.vocabulary import EMAIL, NOTIFICATION_TYPES
from labform.providers.bitbar.emulator.wire import empty, reply


class NotificationHandlers(BitbarViews):
    """One notification per e-mail and scope (a project, or all of them)."""

    async def add_notification(self, request: Request, project_id: int | None, status: int) -> Response:
        values = await self.params(request)
        email = check.matches("email", check.required(values, "email"), EMAIL, "an e-mail address")
        kind = check.one_of("type", check.required(values, "type"), NOTIFICATION_TYPES)
        with self.store.lock:
            if any(n["email"] == email and n["project"] == project_id for n in self.data["notifications"].values()):
                scope = f"project {project_id}" if project_id else "all projects"
                raise api_error(409, f"A notification to {email} for {scope} already exists")
            notification_id = self.store.next_id("notification", ID_STARTS["notification"])
            notification = {"id": notification_id, "email": email, "project": project_id, "type": kind}
            self.data["notifications"][str(notification_id)] = notification
        return reply(request, self.notification_view(notification), status, root="notification")

    async def add_my_notification(self, request: Request) -> Response:
        return await self.add_notification(request, None, 201)

    async def add_project_notification(self, request: Request) -> Response:
        # 200, not 201: the doc lists 200 for this endpoint.
        return await self.add_notification(request, self.project(request)["id"], 200)

    async def list_my_notifications(self, request: Request) -> Response:
        notifications = [self.notification_view(n) for n in self.data["notifications"].values()]
        return self.listing(request, notifications, "notification", "email")

    async def list_project_notifications(self, request: Request) -> Response:
        project_id = self.project(request)["id"]
        records = [n for n in self.data["notifications"].values() if n["project"] == project_id]
        notifications = [self.notification_view(n) for n in records]
        return self.listing(request, notifications, "notification", "email")

    async def get_notification(self, request: Request) -> Response:
        return reply(request, self.notification_view(self.notification(request)), root="notification")

    async def update_notification(self, request: Request) -> Response:
        values = await self.params(request)
        kind = check.one_of("type", check.required(values, "type"), NOTIFICATION_TYPES)
        with self.store.lock:
            notification = self.notification(request)
            notification["type"] = kind
        return reply(request, self.notification_view(notification), 202, root="notification")

    async def delete_notification(self, request: Request) -> Response:
        with self.store.lock:
            del self.data["notifications"][str(self.notification(request)["id"])]
        return empty(204)
