"""apptest.ai on the wire: the ``{data, result_code, result_msg, reason}`` envelope and the documented result codes.

Every documented code is answered with HTTP 200; a refusal is raised as
``result_code(code, detail)`` from anywhere below a handler.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from labform.providers.emulation import AppDefect, Rejection, Validators

# result_code -> (result_msg, reason template), Appendix lines 275-294.
RESULT_CODES: dict[int, tuple[str, str]] = {
    4000: ("Missing Request Parameter", "The required parameter was not found in the request parameters : ({0})"),
    4030: ("App File Analysis Failed", "iOS plistlib Parsing Error : {0}"),
    4031: (
        "App File Analysis Failed",
        "Test creation failed : There was a problem pre-processing your app file. \n the IPA file must be a "
        "development version that is signed by your development certificate.",
    ),
    4032: (
        "App File Analysis Failed",
        "Test creation failed : Invalid app file. \n There was a problem pre-processing your app file.",
    ),
    4040: ("App File Analysis Failed", "Android Manifest Parsing Error : {0}"),
    4041: ("App File Analysis Failed", "No launchable activity found. (android.intent.category.LAUNCHER)"),
    4050: ("Invalid Request Parameter", "File extension not supported. (support : ipa, zip, app, apk, xapk, apks)"),
    4051: ("Invalid Request Parameter", "The required parameter was not found in the request parameters: (app_file)"),
    4052: ("Invalid Request Parameter", "Invalid request parameter : (project_id : {0})"),
    4053: ("Invalid Request Parameter", "Invalid request parameter : (testset_id : {0})"),
    4055: ("Invalid Request Parameter", "Device is not compatible with this app : (App os type : {0})"),
    4080: ("Invalid Request Parameter", "Device info does not exist in preset project data."),
    4081: ("Invalid Request Parameter", "Available devices does not exist in preset project data."),
    5001: ("Run New Testset Error", "Global Exception Error – {0}"),
    5002: ("Get Testset Status Error", "Global Exception Error – {0}"),
    5003: ("Get Testset Result Data Error", "Global Exception Error – {0}"),
    6001: ("App File Upload Error", "App file upload fail."),
    6002: ("Get Testset Result Data Failed", "Test is running yet. Please request when the test is complete."),
    6003: ("Data Does Not Exist", "Test data does not exist."),
    8000: ("System Maintenance", "The Service is currently under system maintenance."),
}

DEFECT_CODES = {
    AppDefect.INVALID_ARCHIVE: 4032,
    AppDefect.MANIFEST_UNREADABLE: 4040,
    AppDefect.NO_LAUNCHER: 4041,
    AppDefect.PLIST_UNREADABLE: 4030,
    AppDefect.NOT_DEVELOPMENT_SIGNED: 4031,
}


def envelope_body(data: Any, code: int = 0, msg: Any = "", reason: str = "") -> dict[str, Any]:
    return {"data": data, "result_code": code, "result_msg": msg, "reason": reason}


def envelope(data: Any, msg: Any = "") -> JSONResponse:
    """A success: result code 0."""
    return JSONResponse(envelope_body(data, msg=msg))


def result_code(code: int, detail: object = "") -> Rejection:
    """A documented non-zero result code, answered as HTTP 200."""
    msg, template = RESULT_CODES[code]
    reason = template.format(detail)
    return Rejection(200, envelope_body({}, code, msg, reason), f"{code} {reason}")


# A missing field is 4000; the doc has no code for a malformed one, so those are 5001.
check = Validators(
    lambda problem: result_code(4000, problem.name) if problem.missing else result_code(5001, str(problem))
)
