"""Thin calls to the kyaraben HTTP API, on the shared HTTP layer.

kyaraben itself trusts an ``X-Auth-UserId`` header naming the user; a real
deployment puts an authentication proxy in front that may expect another
header (a token), so both the header's name and its value are settings. The
value travels only in that header (an ``httpx.Auth``), never in a URL or a log.

Every answer is JSON wrapped in a one-key envelope (``{"project": {...}}``);
an answer that is not the JSON the call expects is a ProviderError naming the
cloud and the operation. 404 is the doc's answer for a missing object *and*
for one that belongs to someone else: both read as gone.

    client = KyarabenClient("http://localhost:8084", "X-Auth-UserId", "marco", 30)
    project_id = client.create_project("peace")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labform.providers.base import Context
from labform.providers.errors import ProviderError
from labform.providers.http import HttpClient
from labform.providers.limits import Limits
from labform.providers.transfer import FilePart

if TYPE_CHECKING:
    import httpx  # with the auth flows, imported by the client's constructor, so validate never loads it

CLOUD = "kyaraben"
# What the API gives as a new object's id (a hex string; a number is taken too).
ID = (str, int)


def _error_message(response: httpx.Response) -> str:
    """The doc's error object is ``{"error": "..."}``; anything else is reported by its status."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return str(body)[:200]


class KyarabenClient:
    def __init__(self, endpoint: str, auth_header: str, auth_value: str, timeout: float, limits: Limits | None = None):
        from labform.providers.auth import HeaderAuth

        self.http = HttpClient(
            CLOUD,
            endpoint,
            auth=HeaderAuth(auth_header, auth_value),
            headers={"Accept": "application/json"},
            timeout=timeout,
            limits=limits,
            error_message=_error_message,
        )

    def close(self) -> None:
        self.http.close()

    # --- transport ------------------------------------------------------------
    def _call(
        self, method: str, path: str, operation: str, key: str | None = None, shape: Any = None, **kwargs: Any
    ) -> Any:
        """The answer's JSON (its ``key`` member, a ``shape``, when given); an empty 2xx answer is None."""
        return self.http.request_json(method, path, operation=operation, key=key, shape=shape, empty_ok=True, **kwargs)

    # --- user -----------------------------------------------------------------
    def whoami(self) -> dict[str, Any]:
        return self._call("GET", "/user/whoami", "read current user", "user", dict)

    def quota(self) -> dict[str, Any]:
        return self._call("GET", "/user/quota", "read quota", "quota", dict)

    def images(self) -> list[dict[str, Any]]:
        return self._call("GET", "/images", "list images", "images", list)

    # --- projects -------------------------------------------------------------
    def projects(self) -> list[dict[str, Any]]:
        return self._call("GET", "/projects", "list projects", "projects", list)

    def project(self, project_id: str) -> dict[str, Any]:
        return self._call("GET", f"/projects/{project_id}", "read project", "project", dict)

    def create_project(self, name: str) -> str:
        return self._call("POST", "/projects", "create project", "project_id", ID, json={"project_name": name})

    def rename_project(self, project_id: str, name: str) -> None:
        """The doc's example sends ``project_name``, its field list names ``avm_name``: both go,
        so a server reading either renames the project."""
        self._call("PUT", f"/projects/{project_id}", "rename project", json={"project_name": name, "avm_name": name})

    def delete_project(self, project_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}", "delete project")

    # --- apks and camera files ------------------------------------------------
    def apks(self, project_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/projects/{project_id}/apk", "list apks", "apks", list)

    def apk(self, project_id: str, apk_id: str) -> dict[str, Any]:
        return self._call("GET", f"/projects/{project_id}/apk/{apk_id}", "read apk", "apk", dict)

    def upload_apk(self, project_id: str, part: FilePart) -> str:
        return self._call("POST", f"/projects/{project_id}/apk", "upload apk", "apk_id", ID, files={"file": part})

    def delete_apk(self, project_id: str, apk_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}/apk/{apk_id}", "delete apk")

    def camera_files(self, project_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/projects/{project_id}/camera", "list camera files", "camera_files", list)

    def upload_camera_file(self, project_id: str, part: FilePart) -> str:
        return self._call(
            "POST", f"/projects/{project_id}/camera", "upload camera file", "camera_file_id", ID, files={"file": part}
        )

    def delete_camera_file(self, project_id: str, camera_file_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}/camera/{camera_file_id}", "delete camera file")

    # --- test sources ---------------------------------------------------------
    def testsources(self, project_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/projects/{project_id}/testsources", "list test sources", "testsources", list)

    def testsource(self, project_id: str, testsource_id: str) -> dict[str, Any]:
        return self._call(
            "GET",
            f"/projects/{project_id}/testsources/{testsource_id}/metadata",
            "read test source",
            "testsource",
            dict,
        )

    def upload_testsource(self, project_id: str, part: FilePart) -> str:
        return self._call(
            "POST",
            f"/projects/{project_id}/testsources",
            "upload test source",
            "testsource_id",
            ID,
            files={"file": part},
        )

    def replace_testsource(self, project_id: str, testsource_id: str, part: FilePart) -> None:
        self._call(
            "PUT", f"/projects/{project_id}/testsources/{testsource_id}", "update test source", files={"file": part}
        )

    def compile_testsource(self, project_id: str, testsource_id: str) -> str:
        return self._call(
            "POST", f"/projects/{project_id}/testsources/{testsource_id}/apk", "compile test source", "apk_id", ID
        )

    def delete_testsource(self, project_id: str, testsource_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}/testsources/{testsource_id}", "delete test source")

    # --- campaigns ------------------------------------------------------------
    def campaigns(self, project_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/projects/{project_id}/campaigns", "list campaigns", "campaigns", list)

    def campaign(self, project_id: str, campaign_id: str) -> dict[str, Any]:
        return self._call("GET", f"/projects/{project_id}/campaigns/{campaign_id}", "read campaign", "campaign", dict)

    def start_campaign(self, project_id: str, body: dict[str, Any]) -> str:
        return self._call("POST", f"/projects/{project_id}/campaigns", "start campaign", "campaign_id", ID, json=body)

    def delete_campaign(self, project_id: str, campaign_id: str) -> None:
        self._call("DELETE", f"/projects/{project_id}/campaigns/{campaign_id}", "delete campaign")

    # --- android VMs ----------------------------------------------------------
    def avms(self) -> list[dict[str, Any]]:
        return self._call("GET", "/android", "list VMs", "avms", list)

    def avm(self, avm_id: str) -> dict[str, Any]:
        return self._call("GET", f"/android/{avm_id}", "read VM", "avm", dict)

    def create_avm(self, body: dict[str, Any]) -> str:
        return self._call("POST", "/android", "create VM", "avm_id", ID, json=body)

    def rename_avm(self, avm_id: str, name: str) -> None:
        """The doc's example puts the id in the path, its heading (``PUT /android``) does not:
        a server that refuses the method on the path (405) is asked the heading's way."""
        try:
            self._call("PUT", f"/android/{avm_id}", "rename VM", json={"avm_name": name})
        except ProviderError as error:
            if error.status != 405:
                raise
            self._call("PUT", "/android", "rename VM", json={"avm_id": avm_id, "avm_name": name})

    def delete_avm(self, avm_id: str) -> None:
        self._call("DELETE", f"/android/{avm_id}", "delete VM")

    def install_apk(self, avm_id: str, apk_id: str) -> str:
        """Sent again like a PUT when its answer is lost: the doc says "The application can be
        reinstalled multiple times without uninstalling", so a second install only repeats the first."""
        return self._call("POST", f"/android/{avm_id}/apk/{apk_id}", "install apk", "command_id", ID, idempotent=True)

    def command_results(self, avm_id: str, command_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/android/{avm_id}/command/{command_id}", "read command", "results", list)


def in_project(type_name: str, id: str) -> tuple[str, str]:
    """``PROJECT_ID/OBJECT_ID``, how ``labform import`` names an object kyaraben files under a project."""
    project, _, object_id = id.rpartition("/")
    if not project or not object_id:
        raise ProviderError(
            CLOUD,
            f"import {type_name}",
            None,
            f"give the id as PROJECT_ID/ID (e.g. 722de0eeb70011e69093fa163e5f2779/{id})",
        )
    return project, object_id


def client_of(ctx: Context) -> KyarabenClient:
    """The configured client a resource call receives in its context."""
    return ctx.client
