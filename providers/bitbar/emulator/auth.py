"""Authentication: the API key as HTTP Basic user, OAuth2 password and refresh grants, access tokens
in the URL or a Bearer header; and ``/api/me``, the caller."""

from __future__ import annotations

import time
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from labform.providers.bitbar.emulator.errors import api_error, check
from labform.providers.bitbar.emulator.seed import USER_ID
from labform.providers.bitbar.emulator.views import BitbarViews
from labform.providers.bitbar.emulator.wire import reply
from labform.providers.emulation import Handler, basic_auth

OAUTH_CLIENT_ID = "testdroid-cloud-api"
AUTH_REQUIRED = "Full authentication is required to access this resource"


class AuthHandlers(BitbarViews):
    """Who may call: a guard for every route, the token endpoint, and who the caller is."""

    def guard(self, handler: Handler, public: bool) -> Handler:
        async def guarded(request: Request) -> Response:
            if not public:
                self.authenticate(request)
            return await handler(request)

        return guarded

    def access_token(self, request: Request) -> str | None:
        """The OAuth2 token, where this variant takes it: ``?access_token=`` (the doc) or a Bearer header."""
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        places = {
            "url": request.query_params.get("access_token"),
            "header": bearer.strip() if scheme.lower() == "bearer" else None,
        }
        accepted = ("url", "header") if self.variants.token_in == "url_or_header" else (self.variants.token_in,)
        return next((places[place] for place in accepted if places[place]), None)

    def authenticate(self, request: Request) -> None:
        token = self.access_token(request)
        if token is not None:
            grant = self.data["accessTokens"].get(token)
            # The token in the message, as Spring's OAuth2 server words it: clients must mask it themselves.
            if grant is None:
                raise api_error(401, f"Invalid access token: {token}")
            if time.time() >= grant["expiresAt"]:
                raise api_error(401, f"Access token expired: {token}")
            return
        credentials = basic_auth(request)
        if credentials is None:
            raise api_error(401, AUTH_REQUIRED)
        if credentials[0] != self.api_key:
            raise api_error(401, "Bad credentials")

    async def get_me(self, request: Request) -> Response:
        return reply(request, self.user_view(), root="user")

    async def oauth_token(self, request: Request) -> Response:
        values = await self.params(request)
        if values.get("client_id") != OAUTH_CLIENT_ID:
            raise api_error(401, "Bad client credentials")
        grant_type = check.required(values, "grant_type")
        with self.store.lock:
            token_type = "bearer"
            if grant_type == "password":
                if (check.required(values, "username"), check.required(values, "password")) != (
                    self.username,
                    self.password,
                ):
                    raise api_error(401, "Bad credentials")
                refresh_token = str(uuid.uuid4())
                self.data["refreshTokens"][refresh_token] = {"userId": USER_ID}
            elif grant_type == "refresh_token":
                refresh_token = check.required(values, "refresh_token")
                if refresh_token not in self.data["refreshTokens"]:
                    raise api_error(401, f"Invalid refresh token: {refresh_token}")
                token_type = self.variants.refreshed_token_type
            else:
                raise api_error(400, f"Unsupported grant type: {grant_type}")
            access_token = self.issue_access_token()
        if request.method == "GET":
            self.store.save()  # the kit saves after non-GET requests only
        body = {
            "access_token": access_token,
            "token_type": token_type,
            "refresh_token": refresh_token,
            "expires_in": int(self.token_ttl),
            "scope": "read write",
        }
        return JSONResponse(body)

    def issue_access_token(self) -> str:
        wall = time.time()
        tokens = self.data["accessTokens"]
        for expired in [t for t, grant in tokens.items() if grant["expiresAt"] <= wall]:
            del tokens[expired]
        token = str(uuid.uuid4())
        tokens[token] = {"userId": USER_ID, "expiresAt": wall + self.token_ttl}
        return token
