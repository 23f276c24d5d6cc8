"""Authentication flows as ``httpx.Auth`` plug-ins, so every client shares them.

``HeaderAuth`` puts one identity header on every request (kyaraben's
``X-Auth-UserId``, or the token a proxy in front of it expects).

``OAuthPasswordAuth`` does the OAuth2 password grant and refreshes the token
before it expires (or after a 401). Where the token travels is the server's
choice: OAuth 2.0 servers take an ``Authorization: Bearer`` header, while the
Bitbar doc says to "put your access_token to HTTP request URL". The header is
tried first, since it stays out of proxy and access logs; a server that
refuses it there gets ``?access_token=`` from then on. Either way every token
is registered for masking the moment it arrives, so the debug log (httpx logs
each URL) and error messages show ``(sensitive)`` in its place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from typing import Literal

import httpx

from labform.providers.masking import register as mask_in_output

# Refresh this many seconds before the token's stated expiry.
EXPIRY_MARGIN = 60.0
Place = Literal["header", "url"]


def _mask(token: str) -> None:
    """The token as it is, and as it reads inside a URL's query string."""
    mask_in_output(token)
    mask_in_output(httpx.URL(params={"access_token": token}).query.decode().partition("=")[2])


class OAuthPasswordAuth(httpx.Auth):
    def __init__(self, token_url: str, client_id: str, username: str, password: str):
        self.token_url = token_url
        self.client_id = client_id
        self.username = username
        self._password = password
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        # Where the server took the token last; the other place is tried when it refuses.
        self._place: Place = "header"
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OAuthPasswordAuth(user={self.username!r}, password=(sensitive))"

    def _token_request(self) -> httpx.Request:
        if self._refresh:
            form = {"client_id": self.client_id, "grant_type": "refresh_token", "refresh_token": self._refresh}
        else:
            form = {
                "client_id": self.client_id,
                "grant_type": "password",
                "username": self.username,
                "password": self._password,
            }
        return httpx.Request("POST", self.token_url, data=form, headers={"Accept": "application/json"})

    def _store(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        body = response.json()
        self._access = body["access_token"]
        self._refresh = body.get("refresh_token") or self._refresh
        for token in (self._access, self._refresh):
            if token:
                _mask(token)
        self._expires_at = time.time() + float(body.get("expires_in", 3600))
        return True

    def _grant(self) -> Generator[httpx.Request, httpx.Response, str | None]:
        """Get a token (refresh, else password); None if none could be had (the token
        endpoint's last answer, which refused, is then the caller's)."""
        response = yield self._token_request()
        response.read()
        if not self._store(response) and self._refresh:
            # A refresh token can expire too: fall back to a fresh password grant.
            self._refresh = None
            response = yield self._token_request()
            response.read()
            self._store(response)
        return self._access or None

    def _authorized(self, request: httpx.Request, url: httpx.URL, token: str, place: Place) -> httpx.Request:
        request.headers.pop("Authorization", None)
        request.url = url
        if place == "header":
            request.headers["Authorization"] = f"Bearer {token}"
        else:
            request.url = url.copy_merge_params({"access_token": token})
        return request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        with self._lock:
            token = self._access
            if token is None or time.time() > self._expires_at - EXPIRY_MARGIN:
                token = yield from self._grant()
                if token is None:
                    return  # the token endpoint's answer (e.g. 401 Bad credentials) is the caller's
        places: tuple[Place, Place] = (self._place, "url" if self._place == "header" else "header")
        response = yield self._authorized(request, url, token, places[0])
        if response.status_code != 401:
            return
        # Refused: the server may want the token in the other place, or the token is no longer good.
        response = yield self._authorized(request, url, token, places[1])
        if response.status_code != 401:
            self._place = places[1]
            return
        with self._lock:
            self._access, self._expires_at = None, 0.0
            token = yield from self._grant()
            if token is None:
                return
        for place in places:
            response = yield self._authorized(request, url, token, place)
            if response.status_code != 401:
                self._place = place
                return


class HeaderAuth(httpx.Auth):
    """One header carrying the identity; its value is kept out of repr()."""

    def __init__(self, header: str, value: str):
        self.header = header
        self._value = value

    def __repr__(self) -> str:
        return f"HeaderAuth({self.header}=(sensitive))"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self._value
        yield request
