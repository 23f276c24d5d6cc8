"""Bitbar on the wire: XML unless the client asks for JSON, and parameters from query or form."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def xml_element(tag: str, value: Any, item_tag: str) -> ElementTree.Element:
    """Objects become child elements, arrays repeat ``item_tag``, null is an empty element."""
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        element.extend(xml_element(key, child, item_tag) for key, child in value.items())
    elif isinstance(value, list):
        element.extend(xml_element(item_tag, child, item_tag) for child in value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def wants_json(request: Request) -> bool:
    # OAuth2 token endpoints speak JSON; everything else is XML unless asked (doc, first lines).
    return "application/json" in request.headers.get("accept", "") or request.url.path.startswith("/oauth/")


def reply(request: Request, body: Any, status: int = 200, root: str = "object", item: str = "item") -> Response:
    if wants_json(request):
        return JSONResponse(body, status_code=status)
    xml = ElementTree.tostring(xml_element(root, body, item), encoding="utf-8", xml_declaration=True)
    return Response(xml, status, media_type="application/xml")


def empty(status: int) -> Response:
    """The doc's "(empty string)" success response."""
    return Response(b"", status_code=status)


def download(payload: bytes, filename: str, media_type: str) -> Response:
    return Response(
        payload, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


async def request_params(request: Request, from_query: bool) -> dict[str, str]:
    """Query-string parameters (if ``from_query``), overlaid by an x-www-form-urlencoded body if there is one."""
    values = dict(request.query_params) if from_query else {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        values.update((key, value) for key, value in form.items() if isinstance(value, str))
    return values
