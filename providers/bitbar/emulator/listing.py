"""The doc's ``list`` object: search, sort, offset/limit paging and absolute next/previous links.

The doc lists no 400 for any list endpoint, so nothing here refuses: ``limit=0``
is every item (the Bitbar clients' way of listing all), an offset or limit that
is not a whole number >= 0 falls back to its default, and a ``sort`` is applied
where it names a sortable field and ignored otherwise.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.wire import reply
from labform.providers.emulation import page_window


def list_response(
    request: Request,
    items: list[dict[str, Any]],
    item: str,
    name_field: str,
    page_size: int,
    max_limit: int | None = None,
) -> Response:
    """The doc's ``list`` object over ``items``; ``max_limit`` cuts larger pages (a variant)."""
    query = request.query_params
    offset = _whole(query.get("offset"), 0)
    limit = _whole(query.get("limit"), page_size)
    if max_limit is not None and limit > max_limit:
        limit = max_limit
    search, sort = query.get("search", ""), query.get("sort", "")
    if search:
        items = [i for i in items if search.lower() in str(field_value(i, name_field) or "").lower()]
    if sort:
        items = sort_items(items, sort, name_field)
    page = page_window(items, offset, limit or len(items))
    after = offset + len(page)

    def link(at: int) -> str:
        return str(request.url.replace(query=urlencode({"offset": at, "limit": limit, "search": search, "sort": sort})))

    body = {
        "next": link(after) if page and after < len(items) else None,
        "previous": link(max(0, offset - (limit or offset))) if offset > 0 else None,
        "data": page,
        "offset": offset,
        "limit": limit,
        "total": len(items),
        "search": search,
        "sort": sort,
        "empty": not page,
    }
    return reply(request, body, root="list", item=item)


def _whole(text: str | None, default: int) -> int:
    return int(text) if text is not None and text.strip().isdigit() else default


def field_value(item: dict[str, Any], path: str, missing: Any = None) -> Any:
    """``item["device"]["displayName"]`` for the path ``device.displayName``."""
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return missing
        value = value[part]
    return value


def sort_items(items: list[dict[str, Any]], sort: str, name_field: str) -> list[dict[str, Any]]:
    """``<field>``, ``<field>_a`` or ``<field>_d`` on a scalar field (``name``: the list's name-like
    field), nulls last; a sort naming no such field leaves the order as it is."""
    match = re.fullmatch(r"(.+?)(?:_([ad]))?", sort)
    if match is None:  # a sort with a line break names no field
        return items
    field = name_field if match[1] == "name" else match[1]
    unknown = object()
    values = [field_value(item, field, unknown) for item in items]
    present = [(v, i) for v, i in zip(values, items, strict=False) if v is not None]
    kinds = {float if type(v) is int else type(v) for v, _ in present}
    if len(kinds) > 1 or any(v is unknown or isinstance(v, (dict, list)) for v in values):
        return items
    present.sort(key=lambda pair: pair[0], reverse=match[2] == "d")
    return [item for _, item in present] + [item for value, item in zip(values, items, strict=False) if value is None]
