"""Thin calls to the WeTest CloudTesting REST API, on the shared HTTP layer.

Auth is ``SecretId:SecretKey`` as HTTP Basic. Every answer carries ``ret`` /
``msg``; a non-zero ``ret`` is a failure even under HTTP 200, so the envelope
hook turns it into a ProviderError whose status is the ``ret`` and whose
message is the cloud's ``msg``.

    client = WeTestClient("https://api.paas.wetest.net/cloudtest", secret_id, secret_key, 30)
    devices = client.devices(1)
"""

from __future__ import annotations

from typing import Any

import httpx

from providers.base import Context
from providers.http import HttpClient, envelope_check
from providers.transfer import FilePart

CLOUD = "wetest"
# The doc lists no ret codes; this is the one the emulator answers for a missing object.
RET_NOT_FOUND = 1002


envelope_failure = envelope_check("ret", lambda body, ret: str(body.get("msg") or "no message"))


class WeTestClient:
    def __init__(self, endpoint: str, secret_id: str, secret_key: str, timeout: float):
        self.http = HttpClient(
            CLOUD,
            endpoint,
            auth=httpx.BasicAuth(secret_id, secret_key),
            headers={"Accept": "application/json"},
            timeout=timeout,
            check_envelope=envelope_failure,
            not_found_codes=frozenset({RET_NOT_FOUND}),
        )

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        """The answer's body; a ``ret`` meaning "not found" raises NotFoundError (drift, deletes)."""
        return self.http.request_json(method, "/v1" + path, operation=operation, **kwargs)

    # --- apps ---------------------------------------------------------------
    def upload_app(self, project: str, name: str, part: FilePart) -> dict[str, Any]:
        params = {"project": project, "name": name}
        return self._call("POST", "/platform/upload/storage", "upload app", params=params, files={"data": part})["data"]

    def app(self, project: str, *, fid: str | None = None, md5: str | None = None) -> dict[str, Any]:
        """An uploaded app by its fid or by the md5 of its content; NotFoundError if none."""
        params = {"project": project, **({"fid": fid} if fid else {"hash": md5})}
        return self._call("GET", "/platform/upload/info", "read app", params=params)["data"]

    def delete_app(self, fid: str) -> None:
        self._call("DELETE", f"/platform/upload/info/{fid}", "delete app")

    # --- scripts ------------------------------------------------------------
    def upload_script(self, project: str | None, part: FilePart) -> dict[str, Any]:
        params = {"project": project} if project else None
        return self._call("POST", "/scripts", "upload script", params=params, files={"file": part})["script"]

    def script(self, script_id: str, project: str | None) -> dict[str, Any]:
        params = {"project": project} if project else None
        return self._call("GET", f"/scripts/{script_id}", "read script", params=params)["script"]

    def delete_script(self, script_id: str) -> None:
        self._call("DELETE", f"/scripts/{script_id}", "delete script")

    # --- catalogue ----------------------------------------------------------
    def projects(self) -> list[dict[str, Any]]:
        return self._call("GET", "/users/projects", "list projects")["projects"]

    def clouds(self) -> list[dict[str, Any]]:
        return self._call("GET", "/users/clouds", "list clouds")["clouds"]

    def devices(self, cloud_id: int) -> list[dict[str, Any]]:
        return self._call("GET", f"/clouds/{cloud_id}/devices", "list devices")["devices"]

    def model_lists(self, project: str) -> list[dict[str, Any]]:
        return self._call("GET", "/model/list", "list model lists", params={"project": project})["data"]

    # --- tests --------------------------------------------------------------
    def submit_test(self, body: dict[str, Any]) -> int:
        return self._call("POST", "/tests/automation", "submit test", json=body)["test_info"]["test_id"]

    def cancel_test(self, test_id: str) -> None:
        self._call("POST", f"/tests/{test_id}/cancelation", "cancel test")

    def test_status(self, test_id: str) -> dict[str, Any]:
        return self._call("GET", f"/tests/{test_id}/status", "read test status")["test_status"]

    def test_devices(self, test_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/tests/{test_id}/devices", "read device results")["devices"]

    def test_result(self, test_id: str) -> dict[str, Any]:
        return self._call("GET", f"/tests/{test_id}/result", "read test result")["test_result"]


def client_of(ctx: Context) -> WeTestClient:
    """The configured client a resource call receives in its context."""
    return ctx.client
