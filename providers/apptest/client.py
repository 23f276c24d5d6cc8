"""Thin calls to the apptest.ai openapi v2 (three endpoints), on the shared HTTP layer.

Auth is ``user_id:access_key`` as HTTP Basic. Every answer is the envelope
``{data, result_code, result_msg, reason}``; a non-zero ``result_code`` is a
failure even under HTTP 200. It becomes a ProviderError with the code as its
status, the cloud's reason, and what to do about it (``RESULT_CODES``).

Two codes mean "not yet" and are waited out with the shared poller
(providers/polling.py, backoff up to a ceiling): 8000, System Maintenance, on
every call for up to ``maintenance_timeout`` before it is reported; and 6002,
result requested while the testset is still running.

"Not there" follows the doc's tables. The only code that says so is the result
table's 6003, "Data Does Not Exist" (NotFoundError). The status table lists
5002 and 8000 alone, neither meaning "no such testset" (and 4053 is not in it),
so a status read refused with any code is confirmed on the result endpoint:
its 6003 makes the testset gone; anything else leaves the status's own error.

    client = AppTestClient("https://api.apptest.ai", user_id, access_key, 30, 300)
    status = client.testset(251929)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import TYPE_CHECKING, Any

from labform.providers.errors import NotFoundError, ProviderError
from labform.providers.http import HttpClient, envelope_check, shaped
from labform.providers.limits import Limits
from labform.providers.polling import WaitTimeout, wait_for

if TYPE_CHECKING:
    import httpx  # imported by the client's constructor, so validate never loads it

CLOUD = "apptest"
BASE = "/openapi/v2/testset"
MAINTENANCE = 8000
STILL_RUNNING = 6002
NO_RESULT_DATA = 6003  # "Data Does Not Exist: Test data does not exist." (the result table)
# Refusals that are about the account or the line, not the testset asked for.
NOT_ABOUT_THE_TESTSET = frozenset({None, 401, 403, MAINTENANCE})
# Longest pause between retries while waiting out 8000 / 6002.
RETRY_CEILING = 30.0
RESULT_TIMEOUT = 120.0

# Every documented result_code (the doc's Appendix) -> what to look at. The cloud's reason is kept too.
RESULT_CODES: dict[int, str] = {
    4000: "a required parameter is missing",
    4030: "path: the .ipa's Info.plist cannot be read",
    4031: "path: the .ipa must be a development build signed with your development certificate",
    4032: "path: the file is not a valid app",
    4040: "path: the .apk's AndroidManifest.xml cannot be read",
    4041: "path: the app has no launchable activity (android.intent.category.LAUNCHER)",
    4050: "path: use an .ipa, .zip, .app, .apk, .xapk or .apks file",
    4051: "path: the app file did not reach the cloud",
    4052: "pid: this account has no such project",
    4053: "this account has no such testset",
    4055: "path: the app's platform does not match the project's devices",
    4080: "pid: the project has no device preset; choose devices in its settings on apptest.ai",
    4081: "pid: none of the project's preset devices is available now",
    5001: "the cloud could not start the testset (limits: testset_name 100, callback 250, login_id/login_pw 150 characters, time_limit 5-30)",
    5002: "the cloud could not read the testset status",
    5003: "the cloud could not read the testset result",
    6001: "path: the app upload failed",
    6002: "the testset is still running",
    6003: "the testset has no result data",
    8000: "apptest.ai is under system maintenance",
}

log = logging.getLogger("labform.apptest")


def _explained(body: dict[str, Any], code: int) -> str:
    said = ": ".join(
        str(part).replace("\n", " ").strip() for part in (body.get("result_msg"), body.get("reason")) if part
    )
    hint = RESULT_CODES.get(code)
    return "; ".join(part for part in (said, hint) if part) or "no reason given"


envelope_failure = envelope_check("result_code", _explained)


def error_message(response: httpx.Response) -> str:
    """For HTTP errors (e.g. 401): the envelope's reason when there is one."""
    failure = envelope_failure(response)
    return failure[1] if failure else response.reason_phrase


class AppTestClient:
    def __init__(
        self,
        endpoint: str,
        user_id: str,
        access_key: str,
        timeout: float,
        maintenance_timeout: float,
        limits: Limits | None = None,
    ):
        import httpx

        self.maintenance_timeout = maintenance_timeout
        self.http = HttpClient(
            CLOUD,
            endpoint,
            auth=httpx.BasicAuth(user_id, access_key),
            headers={"Accept": "application/json"},
            timeout=timeout,
            limits=limits,
            error_message=error_message,
            check_envelope=envelope_failure,
            not_found_codes=frozenset({NO_RESULT_DATA}),
        )

    def close(self) -> None:
        self.http.close()

    def _call(self, operation: str, send: Callable[[], httpx.Response], safe: bool = True) -> dict[str, Any]:
        """The answer's data; 8000 is waited out (6003 raises NotFoundError)."""
        return _waiting_out(
            MAINTENANCE,
            operation,
            lambda: shaped(
                self.http.parsed(send(), operation, safe=safe, key="data"),
                dict,
                CLOUD,
                operation,
                "the answer's 'data'",
            ),
            self.maintenance_timeout,
        )

    def create_testset(
        self, data: dict[str, Any], app_part: Callable[[], AbstractContextManager[Any]]
    ) -> dict[str, Any]:
        """Start a testset: the app as the ``app_file`` part, the rest as the JSON ``data`` part.

        ``app_part`` opens the file part afresh, so a retry after maintenance sends the whole file again.
        """

        def send() -> httpx.Response:
            with app_part() as part:
                form = {"data": json.dumps(data)}
                return self.http.request(
                    "POST", BASE, operation="start testset", files={"app_file": part}, data=form, json_answer=True
                )

        return self._call("start testset", send, safe=False)

    def _get(self, path: str, operation: str) -> dict[str, Any]:
        return self._call(operation, lambda: self.http.request("GET", path, operation=operation, json_answer=True))

    def testset(self, testset_id: str) -> dict[str, Any]:
        """The testset's status; NotFoundError only once the result endpoint says its data does not exist."""
        try:
            return self._get(f"{BASE}/{testset_id}", "read testset status")
        except ProviderError as error:
            if error.status not in NOT_ABOUT_THE_TESTSET and self._no_result_data(testset_id):
                message = f"{error.message}; and its result: Test data does not exist ({NO_RESULT_DATA})"
                raise NotFoundError(CLOUD, error.operation, error.status, message) from None
            # Unconfirmed, even an HTTP 404 is an error to report, never "gone".
            raise ProviderError(CLOUD, error.operation, error.status, error.message) from None

    def _no_result_data(self, testset_id: str) -> bool:
        """Whether one read of the result (6002, still running, is not waited out) answers 6003."""
        try:
            self._get(f"{BASE}/{testset_id}/result", "read testset result")
        except ProviderError as error:
            return error.status == NO_RESULT_DATA
        return False

    def result(self, testset_id: str) -> dict[str, Any]:
        """The result data (result_xml ...); a 6002 "still running" is waited out."""
        fetch = partial(self._get, f"{BASE}/{testset_id}/result", "read testset result")
        return _waiting_out(STILL_RUNNING, "read testset result", fetch, RESULT_TIMEOUT)


def _warn(message: str) -> None:
    if message:
        log.warning(message)


def _waiting_out(code: int, operation: str, call: Callable[[], Any], timeout: float) -> Any:
    """``call()``, retried with backoff while the cloud answers ``code``; reported after ``timeout``."""

    def attempt() -> Any:
        try:
            return call()
        except ProviderError as error:
            if error.status != code:
                raise
            return error

    def describe(answer: Any) -> str:
        waiting = isinstance(answer, ProviderError)
        return f"apptest: {operation}: {answer.message}; retrying for up to {timeout:.0f}s" if waiting else ""

    try:
        return wait_for(
            attempt,
            done=lambda answer: not isinstance(answer, ProviderError),
            timeout=timeout,
            poll=RETRY_CEILING,
            describe=describe,
            progress=_warn,
        )
    except WaitTimeout as timed_out:
        last: ProviderError = timed_out.last
        raise ProviderError(
            CLOUD, operation, code, f"{last.message} (still so after retrying for {timed_out.waited:.0f}s)"
        ) from None
