"""The shapes of kyaraben's answers, as the doc's examples show them."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response


def answer(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def no_content() -> Response:
    """The doc's 204: ``Content-Length: 0``, ``Content-Type: application/octet-stream``."""
    return Response(b"", status_code=204, media_type="application/octet-stream")


def accepted() -> Response:
    """The doc's bare ``202 Accepted`` (DELETE of a VM or project)."""
    return Response(b"", status_code=202)
