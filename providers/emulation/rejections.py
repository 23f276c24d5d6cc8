"""The one way an emulator refuses a request: raise a ``Rejection``.

A handler, or anything it calls (a lookup, a validator, an auth guard), raises
``Rejection(status, body)`` with the body already in the cloud's envelope;
the app's exception handler answers with it at once, so refusals never have
to be threaded back through return values. Each cloud writes one small
factory that builds its envelope::

    def api_error(status: int, message: str) -> Rejection:
        return Rejection(status, {"statusCode": status, "message": message}, message)

    raise api_error(404, f"No project with id {project_id}")

How the body goes on the wire is the emulator's ``render`` (JSON by default;
Bitbar answers XML unless asked for JSON).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Render = Callable[[Request, "Rejection"], Response]


class Rejection(Exception):
    """The cloud's answer to a request it refuses: HTTP ``status`` and ``body`` (plain data)."""

    def __init__(self, status: int, body: Any, reason: str = "", headers: Mapping[str, str] | None = None):
        super().__init__(reason or f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def as_json(request: Request, rejection: Rejection) -> Response:
    return JSONResponse(rejection.body, status_code=rejection.status, headers=rejection.headers)


def rejection_handler(render: Render) -> Callable[[Request, Exception], Awaitable[Response]]:
    """A Starlette exception handler that answers a ``Rejection`` with ``render``."""

    async def answer(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Rejection)
        return render(request, exc)

    return answer
