"""The doc's ``list`` object: search, sort, offset/limit paging and absolute next/previous links."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from providers.bitbar.emulator.errors import api_error, check
from providers.bitbar.emulator.wire import reply
from providers.emulation import page_window


def list_response(request: Request, items: list[dict[str, Any]], item: str, name_field: str, page_size: int) -> Response:
    """The doc's ``list`` object over ``items``, with search, sort and absolute next/previous links."""
    query = request.query_params
    offset = check.parse_int("offset", query.get("offset", "0"))
    limit = check.parse_int("limit", query.get("limit", str(page_size)), minimum=1)
    search, sort = query.get("search", ""), query.get("sort", "")
    if search:
        items = [i for i in items if search.lower() in str(field_value(i, name_field) or "").lower()]
    if sort:
        items = sort_items(items, sort, name_field)
    page = page_window(items, offset, limit)

    def link(at: int) -> str:
        return str(request.url.replace(query=urlencode({"offset": at, "limit": limit, "search": search, "sort": sort})))

    body = {
        "next": link(offset + limit) if offset + limit < len(items) else None,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
        "data": page,
        "offset": offset,
        "limit": limit,
        "total": len(items),
        "search": search,
        "sort": sort,
        "empty": not page,
    }
    return reply(request, body, root="list", item=item)


def field_value(item: dict[str, Any], path: str, missing: Any = None) -> Any:
    """``item["device"]["displayName"]`` for the path ``device.displayName``."""
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return missing
        value = value[part]
    return value


def sort_items(items: list[dict[str, Any]], sort: str, name_field: str) -> list[dict[str, Any]]:
    """``<field>_a`` / ``<field>_d`` on a scalar field; ``name`` is the list's name-like field; nulls last."""
    match = re.fullmatch(r"([\w.]+)_([ad])", sort)
    if not match:
        raise api_error(400, f"Invalid sort '{sort}': expected <field>_a or <field>_d")
    field = name_field if match[1] == "name" else match[1]
    unknown = object()
    values = [field_value(item, field, unknown) for item in items]
    if any(v is unknown or isinstance(v, (dict, list)) for v in values):
        raise api_error(400, f"Invalid sort '{sort}': cannot sort by {match[1]}")
    present = [(v, i) for v, i in zip(values, items) if v is not None]
    present.sort(key=lambda pair: pair[0], reverse=match[2] == "d")
    return [item for _, item in present] + [item for value, item in zip(values, items) if value is None]
