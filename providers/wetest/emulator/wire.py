"""WeTest on the wire: the ``ret`` / ``msg`` envelope, refusals in it, times, query flags, path ids.

A refusal is raised with its kind (``Ret``) and the default ret; how it goes on
the wire (which ret, which HTTP status) is the variant's reading, applied in
one place, ``refusal_response``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from labform.providers.emulation import Rejection, Validators, virtual_datetime
from labform.providers.wetest.emulator.variants import Variants
from labform.providers.wetest.emulator.vocabulary import Ret

# The HTTP status of each refusal kind, for the variant whose refusals carry one.
HTTP_STATUS = {Ret.BAD_PARAMETER: 400, Ret.NOT_FOUND: 404, Ret.WRONG_STATE: 409, Ret.AUTH_FAILED: 401}

TIME_FORMATS: dict[str, Callable[[float], str]] = {
    "datetime": lambda s: virtual_datetime(s).strftime("%Y-%m-%d %H:%M:%S"),
    "iso8601": lambda s: virtual_datetime(s).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    "epoch_seconds": lambda s: str(int(virtual_datetime(s).timestamp())),
    "epoch_millis": lambda s: str(int(virtual_datetime(s).timestamp() * 1000)),
}


def ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"ret": int(Ret.OK), "msg": "ok", **fields})


def rejected(kind: Ret, msg: str) -> Rejection:
    """An API-level refusal of ``kind``; its ret and HTTP status are chosen when it is rendered."""
    return Rejection(200, {"ret": int(kind), "msg": msg}, msg)


def refusal_response(rejection: Rejection, variants: Variants) -> Response:
    """The refusal as this variant's server answers it."""
    kind = Ret(rejection.body["ret"])
    ret = (
        {Ret.NOT_FOUND: variants.not_found_ret}.get(kind, int(kind))
        if variants.single_ret is None
        else variants.single_ret
    )
    status: int
    if kind == Ret.AUTH_FAILED:
        status = variants.auth_status
    else:
        status = 200 if variants.refusal_status == "200" else HTTP_STATUS[kind]
    return JSONResponse({**rejection.body, "ret": ret}, status_code=status)


check = Validators(lambda problem: rejected(Ret.BAD_PARAMETER, str(problem)))


def flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() in ("true", "1")


def int_path(request: Request, name: str) -> int:
    return check.parse_int(name, request.path_params[name], minimum=None)
