"""Authentication flows as ``httpx.Auth`` plug-ins, so every client shares them.

``OAuthPasswordAuth`` does the OAuth2 password grant, refreshes the token
before it expires (or after a 401), and sends it only in the Authorization
header, never in the URL.
"""

from __future__ import annotations

import threading
import time
from typing import Generator

import httpx

# Refresh this many seconds before the token's stated expiry.
EXPIRY_MARGIN = 60.0


class OAuthPasswordAuth(httpx.Auth):
    def __init__(self, token_url: str, client_id: str, username: str, password: str):
        self.token_url = token_url
        self.client_id = client_id
        self.username = username
        self._password = password
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OAuthPasswordAuth(user={self.username!r}, password=(sensitive))"

    def _token_request(self) -> httpx.Request:
        if self._refresh:
            form = {"client_id": self.client_id, "grant_type": "refresh_token", "refresh_token": self._refresh}
        else:
            form = {"client_id": self.client_id, "grant_type": "password", "username": self.username, "password": self._password}
        return httpx.Request("POST", self.token_url, data=form, headers={"Accept": "application/json"})

    def _store(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            return False
        try:
            body = response.json()
            self._access = body["access_token"]
        except (ValueError, KeyError, TypeError):
            return False  # an unreadable token answer is no token: the request goes out and is refused
        self._refresh = body.get("refresh_token") or self._refresh
        self._expires_at = time.time() + float(body.get("expires_in", 3600))
        return True

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            if self._access is None or time.time() > self._expires_at - EXPIRY_MARGIN:
                response = yield self._token_request()
                response.read()
                if not self._store(response) and self._refresh:
                    # A refresh token can expire too: fall back to a fresh password grant.
                    self._refresh = None
                    response = yield self._token_request()
                    response.read()
                    self._store(response)
            token = self._access
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and token is not None:
            with self._lock:
                self._access = None
                self._expires_at = 0.0
                token_response = yield self._token_request()
                token_response.read()
                self._store(token_response)
            request.headers["Authorization"] = f"Bearer {self._access}"
            yield request
