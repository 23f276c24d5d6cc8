"""Thin calls to the WeTest CloudTesting REST API, on the shared HTTP layer.

Auth is ``SecretId:SecretKey`` as HTTP Basic. Every answer carries ``ret`` /
``msg``; a non-zero ``ret`` is a failure even under HTTP 200 (a ``Refusal``,
whose status is the ``ret`` and whose message is the cloud's ``msg``).

"Not there", one rule: the doc defines only ``ret`` 0, so no ret code (nor the
emulator's 1002) means "not found". A lookup by id of an object the doc lets
be deleted (an app, a script) that is refused (a non-zero ``ret``, or an HTTP
4xx other than auth and rate limits) means the object is absent only once the
projects listing (the doc's one listing of the scope) answers and still holds
the project: the account, the endpoint and the project are then fine, and what
the lookup named is not there. Otherwise the lookup's own error is raised. A
delete that is refused is "already gone" only when that lookup says so. Tests
are never taken as gone: the doc has no call that deletes one.

    client = WeTestClient("https://api.paas.wetest.net/cloudtest", secret_id, secret_key, 30)
    devices = client.devices(1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from labform.providers.base import Context
from labform.providers.errors import NotFoundError, ProviderError
from labform.providers.http import IDEMPOTENT_METHODS, HttpClient, envelope_check, member, shaped
from labform.providers.limits import Limits
from labform.providers.transfer import FilePart

CLOUD = "wetest"
# HTTP statuses that refuse the account or the pace, not the object asked for.
NOT_ABOUT_THE_OBJECT = frozenset({401, 403, 407, 408, 429})

envelope_failure = envelope_check("ret", lambda body, ret: str(body.get("msg") or "no message"))


class Refusal(ProviderError):
    """HTTP 200 with a non-zero ``ret``: the cloud refused, for a reason only its ``msg`` words."""


def refused(error: ProviderError) -> bool:
    """Whether the cloud refused the request itself (as opposed to the account, the pace or the line)."""
    if isinstance(error, Refusal):
        return True
    return error.status is not None and 400 <= error.status < 500 and error.status not in NOT_ABOUT_THE_OBJECT


class WeTestClient:
    def __init__(self, endpoint: str, secret_id: str, secret_key: str, timeout: float, limits: Limits | None = None):
        import httpx  # here, not at the top: validate builds no client and never loads it

        self.http = HttpClient(
            CLOUD,
            endpoint,
            auth=httpx.BasicAuth(secret_id, secret_key),
            headers={"Accept": "application/json"},
            timeout=timeout,
            limits=limits,
        )

    def close(self) -> None:
        self.http.close()

    def _call(
        self, method: str, path: str, operation: str, key: str | None = None, shape: Any = dict, **kwargs: Any
    ) -> Any:
        """The answer's body (its ``key`` member, a ``shape``, when given); a non-zero ``ret`` raises a
        Refusal. An answer without the envelope is not a refusal: the server does not speak the API."""
        response = self.http.request(method, "/v1" + path, operation=operation, json_answer=True, **kwargs)
        body = shaped(self.http.parsed(response, operation, safe=method in IDEMPOTENT_METHODS), dict, CLOUD, operation)
        member(body, "ret", int, CLOUD, operation)
        failure = envelope_failure(response)
        if failure is not None:
            raise Refusal(CLOUD, operation, *failure)
        return body if key is None else member(body, key, shape, CLOUD, operation)

    def _lookup(self, operation: str, project: str | None, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``call()``; if refused, NotFoundError once the projects listing confirms the scope (see above)."""
        try:
            return call()
        except ProviderError as error:
            if not refused(error):
                raise
            self._confirm_absent(error, operation, project)

    def _confirm_absent(self, error: ProviderError, operation: str, project: str | None) -> NoReturn:
        try:
            projects = self.projects()
        except ProviderError:
            raise error from None
        if project is not None and all(p.get("project_id") != project for p in projects):
            raise NotFoundError(
                CLOUD, operation, error.status, f"project {project} is no longer listed ({error.message})"
            ) from None
        raise NotFoundError(CLOUD, operation, error.status, error.message) from None

    def _delete(self, path: str, operation: str, still_there: Callable[[], Any]) -> None:
        """Delete; a refusal of an object the lookup no longer finds is NotFoundError (already gone)."""
        try:
            self._call("DELETE", path, operation)
        except ProviderError as error:
            if not refused(error):
                raise
            still_there()  # NotFoundError when it is gone
            raise

    # --- apps ---------------------------------------------------------------
    def upload_app(self, project: str, name: str, part: FilePart) -> dict[str, Any]:
        """The doc's answer: ``{"fid"}``."""
        params = {"project": project, "name": name}
        return self._call("POST", "/platform/upload/storage", "upload app", "data", params=params, files={"data": part})

    def app(self, project: str, *, fid: str | None = None, md5: str | None = None) -> dict[str, Any]:
        """An uploaded app by its fid or by the md5 of its content; NotFoundError if none."""
        params = {"project": project, **({"fid": fid} if fid else {"hash": md5})}
        return self._lookup(
            "read app", project, lambda: self._call("GET", "/platform/upload/info", "read app", "data", params=params)
        )

    def delete_app(self, project: str, fid: str) -> None:
        self._delete(f"/platform/upload/info/{fid}", "delete app", lambda: self.app(project, fid=fid))

    # --- scripts ------------------------------------------------------------
    def upload_script(self, project: str | None, part: FilePart) -> dict[str, Any]:
        params = {"project": project} if project else None
        return self._call("POST", "/scripts", "upload script", "script", params=params, files={"file": part})

    def script(self, script_id: str, project: str | None) -> dict[str, Any]:
        params = {"project": project} if project else None
        return self._lookup(
            "read script",
            project,
            lambda: self._call("GET", f"/scripts/{script_id}", "read script", "script", params=params),
        )

    def delete_script(self, script_id: str, project: str | None) -> None:
        self._delete(f"/scripts/{script_id}", "delete script", lambda: self.script(script_id, project))

    # --- catalogue ----------------------------------------------------------
    def projects(self) -> list[dict[str, Any]]:
        return self._call("GET", "/users/projects", "list projects", "projects", list)

    def clouds(self) -> list[dict[str, Any]]:
        return self._call("GET", "/users/clouds", "list clouds", "clouds", list)

    def devices(self, cloud_id: int) -> list[dict[str, Any]]:
        return self._call("GET", f"/clouds/{cloud_id}/devices", "list devices", "devices", list)

    def model_lists(self, project: str) -> list[dict[str, Any]]:
        return self._call("GET", "/model/list", "list model lists", "data", list, params={"project": project})

    # --- tests --------------------------------------------------------------
    def submit_test(self, body: dict[str, Any]) -> int:
        info = self._call("POST", "/tests/automation", "submit test", "test_info", json=body)
        return member(info, "test_id", int, CLOUD, "submit test")

    def cancel_test(self, test_id: str) -> None:
        self._call("POST", f"/tests/{test_id}/cancelation", "cancel test")

    def test_status(self, test_id: str) -> dict[str, Any]:
        """A test's status. A test cannot be deleted (the doc has no call for it), so a refusal,
        even an HTTP 404, is an error to report, never "gone": labform must not start it again."""
        try:
            return self._call("GET", f"/tests/{test_id}/status", "read test status", "test_status")
        except NotFoundError as error:
            message = f"{error.message} (WeTest cannot delete a test, so labform does not take it as gone)"
            raise ProviderError(CLOUD, error.operation, error.status, message) from None

    def test_devices(self, test_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/tests/{test_id}/devices", "read device results", "devices", list)

    def test_result(self, test_id: str) -> dict[str, Any]:
        return self._call("GET", f"/tests/{test_id}/result", "read test result", "test_result")


def client_of(ctx: Context) -> WeTestClient:
    """The configured client a resource call receives in its context."""
    return ctx.client
