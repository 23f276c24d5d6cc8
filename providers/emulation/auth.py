"""HTTP Basic credentials, read the way the clouds' docs write them, checked in constant time."""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.emulation.rejections import Rejection

Handler = Callable[[Request], Awaitable[Response]]


def basic_auth(request: Request) -> tuple[str, str] | None:
    """The ``(user, secret)`` pair of an ``Authorization: Basic`` header, if any.

    The value is normally base64 (what ``curl -u`` sends). apptest.ai's doc
    writes the header as ``Basic {user_id}:{access_key}``, unencoded, so a value
    that is not base64 is read as the raw pair.
    """
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = value
    user, separator, secret = decoded.partition(":")
    return (user, secret) if separator else None


def require_basic_auth(accepted: tuple[str, str], rejection: Callable[[], Rejection]) -> Callable[[Handler], Handler]:
    """Decorate a handler so that only ``accepted`` credentials reach it; others get ``rejection()``."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            given = basic_auth(request)
            # compare_digest on both parts so timing tells nothing about either.
            if given is None or not all(
                hmac.compare_digest(a.encode(), b.encode()) for a, b in zip(given, accepted, strict=False)
            ):
                raise rejection()
            return await handler(request)

        return guarded

    return decorate
