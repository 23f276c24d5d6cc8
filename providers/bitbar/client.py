"""Thin typed calls to the Bitbar Testing API v2, on the shared HTTP layer.

Auth is the API key as HTTP Basic user, or OAuth2 (password grant, refreshed
before expiry): the token goes in a Bearer header, or in the URL for a server
that takes it only there, as the doc says (providers/auth.py; either way it is
masked in every output). Parameters go as a form body (the doc's tables call
them "Request body"; its examples use the query string, but a body keeps
values such as applicationPassword out of URLs and logs). Only the keys the
doc's objects list are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labform.providers.base import Context
from labform.providers.http import HttpClient, Page, member, paginate
from labform.providers.limits import Limits
from labform.providers.reads import Fanout
from labform.providers.transfer import FilePart

if TYPE_CHECKING:
    import httpx  # imported by the client's constructor (with the auth flows), so validate never loads it

CLIENT_ID = "testdroid-cloud-api"
ME = "/api/v2/me"
PAGE_SIZE = 50


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message") or response.reason_phrase)
    except (ValueError, AttributeError):
        return response.reason_phrase


class BitbarClient:
    def __init__(
        self,
        endpoint: str,
        api_key: str | None,
        username: str | None,
        password: str | None,
        timeout: float,
        limits: Limits | None = None,
    ):
        import httpx

        from labform.providers.auth import OAuthPasswordAuth

        if api_key:
            auth: httpx.Auth = httpx.BasicAuth(api_key, "")
        else:
            auth = OAuthPasswordAuth(endpoint.rstrip("/") + "/oauth/token", CLIENT_ID, username or "", password or "")
        self.http = HttpClient(
            "bitbar",
            endpoint,
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=timeout,
            limits=limits,
            error_message=_error_message,
        )

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, operation: str, **params: Any) -> Any:
        return self.http.request_json("GET", path, operation=operation, params=params or None, shape=dict)

    def get_bytes(self, path: str, operation: str, readable: Callable[[bytes], bool] | None = None) -> bytes:
        """The body; one that is not ``readable`` (a gateway's page, a cut file) is read again."""
        return self.http.request("GET", path, operation=operation, readable=readable).content

    def post(
        self,
        path: str,
        operation: str,
        form: dict[str, Any] | None = None,
        idempotent: bool = False,
        query: list[tuple[str, str]] | None = None,
    ) -> Any:
        """A POST the doc answers with an object: an empty or garbled answer is an error, never None.
        ``query``: parameters the call takes in its URL (the vendor client's retry repeats one)."""
        return self.http.request_json(
            "POST", path, operation=operation, data=_form(form), params=query, idempotent=idempotent, shape=dict
        )

    def post_json(self, path: str, operation: str, body: dict[str, Any]) -> Any:
        """A POST whose body is a JSON object (the vendor client's test run config)."""
        return self.http.request_json("POST", path, operation=operation, json=body, shape=dict)

    def post_empty(
        self, path: str, operation: str, form: dict[str, Any] | None = None, idempotent: bool = False
    ) -> None:
        """A POST the doc answers with "(empty string)": the status says it all, the body is not read."""
        self.http.request("POST", path, operation=operation, data=_form(form), idempotent=idempotent)

    def upload(self, path: str, operation: str, part: FilePart) -> Any:
        """Multipart upload (field ``file``); a streamed part keeps memory flat whatever the size."""
        return self.http.request_json("POST", path, operation=operation, files={"file": part}, shape=dict)

    @contextmanager
    def stream(self, path: str, operation: str, **params: Any) -> Iterator[httpx.Response]:
        """A response whose body is read as it arrives (downloads of any size)."""
        with self.http.stream("GET", path, operation=operation, params=params or None) as response:
            yield response

    def download(self, path: str, target: Path, operation: str, progress: Callable[[str], None], **params: Any) -> Path:
        """A file of any size into ``target``, started again if the body breaks off."""
        return self.http.download(path, target, operation=operation, progress=progress, **params)

    def delete(self, path: str, operation: str) -> None:
        self.http.request("DELETE", path, operation=operation)

    def list(self, path: str, operation: str, fanout: Fanout | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a Bitbar list object; with a ``fanout``, the pages after the first
        (which says the ``total``) are read at once."""

        def fetch(offset: int) -> Page:
            body = self.get(path, operation, offset=offset, limit=PAGE_SIZE, **params)
            items = member(body, "data", (list, type(None)), "bitbar", operation) or []
            total = member(body, "total", (int, type(None)), "bitbar", operation)
            return Page(items=items, has_more=bool(body.get("next")), total=total)

        return paginate(fetch, fanout=fanout)


def _form(values: dict[str, Any] | None) -> dict[str, str] | None:
    """Form fields as the API expects them: booleans lower-case, None left out."""
    if values is None:
        return None
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in values.items() if v is not None}


def client_of(ctx: Context) -> BitbarClient:
    """The configured client a resource call receives in its context."""
    return ctx.client


def listing(ctx: Context, path: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a list object, its pages read at once within the command's --parallelism."""
    return client_of(ctx).list(path, operation, ctx.listings.fanout, **params)


def project_path(project: Any) -> str:
    return f"{ME}/projects/{project}"
