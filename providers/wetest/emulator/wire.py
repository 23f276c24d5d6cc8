"""WeTest on the wire: the ``ret`` / ``msg`` envelope, refusals in it, timestamps, query flags, path ids."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from providers.emulation import Rejection, Validators, virtual_datetime
from providers.wetest.emulator.vocabulary import Ret


def ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"ret": int(Ret.OK), "msg": "ok", **fields})


def rejected(ret: Ret, msg: str, status: int = 200) -> Rejection:
    """An API-level error: HTTP 200 with a non-zero ``ret`` (only bad credentials get an HTTP status)."""
    return Rejection(status, {"ret": int(ret), "msg": msg}, msg)


check = Validators(lambda problem: rejected(Ret.BAD_PARAMETER, str(problem)))


def timestamp(seconds: float) -> str:
    return virtual_datetime(seconds).strftime("%Y-%m-%d %H:%M:%S")


def flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() in ("true", "1")


def int_path(request: Request, name: str) -> int:
    return check.parse_int(name, request.path_params[name], minimum=None)
