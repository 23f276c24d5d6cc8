"""Execution reports: which executions (filters as the doc spells them), reading them, labform's view of one.

Every documented filter is an argument taking one value or a list. Perfecto
ORs the values of one field and ANDs different fields, and wants each value
numbered: ``status: [FAILED, BLOCKED]`` is sent as ``status[0]=FAILED&status[1]=BLOCKED``.
``exclude`` takes the same filters and sends them with the doc's ``x`` prefix
(``xtags[0]=Java``). Times are milliseconds since the epoch; an ISO 8601 time
is converted.

    report = read_report(ctx, {"job_name": "checkout-ci", "status": ["FAILED", "BLOCKED"]})
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, get_args

from pydantic import BeforeValidator

from labform.providers.base import Arguments, Attrs, Context, arg
from labform.providers.errors import ProviderError
from labform.providers.mapping import FieldMap
from labform.providers.perfecto.client import CLOUD, PROCESSING_COMPLETE, Report
from labform.providers.perfecto.client import client_of as _client
from labform.providers.polling import WaitTimeout, wait_for
from labform.providers.runs import WaitPolicy

T = TypeVar("T")


def _as_list(value: object) -> object:
    return value if value is None or isinstance(value, list) else [value]


def _millis(value: object) -> object:
    """An ISO 8601 time (UTC unless it says otherwise) as ms since the epoch; numbers pass through."""
    if isinstance(value, str) and not value.strip().isdigit():
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp() * 1000)
    return value


# One value or several (ORed by Perfecto); the schema takes both. A validator's input type cannot name
# the alias's T (pydantic does not substitute it there), so each OneOrMore[X] is built with its own X.
if TYPE_CHECKING:
    OneOrMore = Annotated[list[T], BeforeValidator(_as_list)]
else:

    class OneOrMore:
        def __class_getitem__(cls, item: Any) -> Any:
            return Annotated[list[item], BeforeValidator(_as_list, json_schema_input_type=item | list[item])]


# Milliseconds since the epoch; an ISO 8601 time is converted (the schema takes both).
EpochMillis = Annotated[int, BeforeValidator(_millis, json_schema_input_type=int | datetime)]
Status = Literal["PASSED", "FAILED", "BLOCKED", "UNKNOWN"]
STATUSES = get_args(Status)


class Selection(Arguments):
    """The filters that select by a field's value (also what ``exclude`` takes)."""

    test_id: OneOrMore[str] | None = arg(None, description="Test ids (the report's `id`), sent as id[N].")
    execution_id: OneOrMore[str] | None = arg(None, description="Execution ids, sent as externalId[N].")
    tags: OneOrMore[str] | None = arg(None, description="Reporting tags; a test matching any of them is included.")
    status: OneOrMore[Status] | None = arg(None, description="Execution statuses.")
    os: OneOrMore[Literal["ANDROID", "BLACKBERRY", "IOS", "MAC", "WINDOWS", "LINUX"]] | None = arg(
        None, description="Operating systems of the devices."
    )
    browser_type: OneOrMore[str] | None = arg(None, description="E.g. CHROME, FIREFOX, SAFARI, MICROSOFT_EDGE.")
    browser_version: OneOrMore[str] | None = arg(None, description="Browser versions.")
    screen_resolution: OneOrMore[str] | None = arg(None, description="<width>x<height>, e.g. 1080x1920.")
    device_type: OneOrMore[Literal["MOBILE", "DESKTOP", "SIMULATOR"]] | None = arg(None, description="Kinds of device.")
    device_model: OneOrMore[str] | None = arg(None, description='E.g. "Galaxy S22".')
    device_id: OneOrMore[str] | None = arg(None, description="Device ids (serial numbers).")
    job_name: OneOrMore[str] | None = arg(None, description="CI job name.")
    job_number: OneOrMore[int] | None = arg(None, description="CI job (build) number.")
    job_branch: OneOrMore[str] | None = arg(None, description="CI job branch.")
    project_name: OneOrMore[str] | None = arg(None, description="Reporting project name.")
    project_version: OneOrMore[str] | None = arg(None, description="Reporting project version.")
    failure_reason: OneOrMore[str] | None = arg(None, description="Failure reason ids.")
    trigger_type: OneOrMore[Literal["Manual", "Scheduled", "CI/CD"]] | None = arg(
        None, description="What started the executions."
    )
    custom_fields: dict[str, OneOrMore[str]] | None = arg(
        None, description="Custom field name -> value(s), sent as customField.NAME[N]."
    )


class ExecutionFilters(Selection):
    start_execution_time: EpochMillis | None = arg(
        None, description="Sent as startExecutionTime[0]: ms since the epoch, or an ISO 8601 time."
    )
    end_execution_time: EpochMillis | None = arg(
        None, description="Sent as endExecutionTime[0]; the doc reads it only with start_execution_time."
    )
    exclude: Selection | None = arg(
        None, description="Leave out executions matching these (the doc's x prefix, e.g. xtags[0])."
    )
    wait: WaitPolicy | None = arg(
        None, local=True, description="Read again until processingStatus is PROCESSING_COMPLETE."
    )


PARAMETERS = FieldMap(
    test_id="id",
    execution_id="externalId",
    tags="tags",
    status="status",
    os="os",
    browser_type="browserType",
    browser_version="browserVersion",
    screen_resolution="screenResolution",
    device_type="deviceType",
    device_model="deviceModel",
    device_id="deviceId",
    job_name="jobName",
    job_number="jobNumber",
    job_branch="jobBranch",
    project_name="projectName",
    project_version="projectVersion",
    failure_reason="failureReason",
    trigger_type="triggerType",
)
TIMES = FieldMap(start_execution_time="startExecutionTime", end_execution_time="endExecutionTime")


def _numbered(name: str, values: list[Any]) -> list[tuple[str, str]]:
    return [(f"{name}[{index}]", str(value)) for index, value in enumerate(values)]


def _selection_params(selection: Attrs, prefix: str = "") -> list[tuple[str, str]]:
    params = [
        pair for name, values in PARAMETERS.params(selection).items() for pair in _numbered(prefix + name, values)
    ]
    for field_name, values in sorted((selection.get("custom_fields") or {}).items()):
        params += _numbered(f"{prefix}customField.{field_name}", values)
    return params


def query_params(filters: Attrs) -> list[tuple[str, str]]:
    """The query string of an Execution Report for these filters, as the doc spells it."""
    times = [(f"{name}[0]", str(value)) for name, value in TIMES.params(filters).items()]
    return times + _selection_params(filters) + _selection_params(filters.get("exclude") or {}, prefix="x")


def read_report(ctx: Context, filters: Attrs) -> Report:
    """Every page of the report; with ``wait``, read again until processing is complete."""
    params = query_params(filters)
    if not filters.get("wait"):
        return _client(ctx).executions(params)
    policy = WaitPolicy.model_validate(filters["wait"])
    try:
        return wait_for(
            lambda: _client(ctx).executions(params),
            done=lambda report: report.processing_status == PROCESSING_COMPLETE,
            timeout=policy.timeout,
            poll=policy.poll,
            describe=lambda report: f"perfecto: {len(report.executions)} executions, {report.processing_status}",
            progress=ctx.progress,
        )
    except WaitTimeout as timeout:
        raise ProviderError(
            CLOUD, "wait for processing", None, f"the report is still PROCESSING after {timeout.waited:.0f}s"
        ) from None


EXECUTION = FieldMap(
    id="id",
    execution_id="externalId",
    name="name",
    owner="owner",
    status="status",
    start_time="startTime",
    end_time="endTime",
    duration_ms="uxDuration",
    tags="tags",
    report_url="reportURL",
    message="message",
    failure_reason="failureReasonName",
    trigger_type="triggerType",
    automation_framework="automationFramework",
)
JOB = FieldMap(job_name="name", job_number="number", job_branch="branch")
PROJECT = FieldMap(project_name="name", project_version="version")
PLATFORM = FieldMap(
    device_id="deviceId",
    device_type="deviceType",
    os="os",
    os_version="osVersion",
    screen_resolution="screenResolution",
    location="location",
)
MOBILE = FieldMap(model="model", manufacturer="manufacturer")
BROWSER = FieldMap(browser_type="browserType", browser_version="browserVersion")


def _platform(platform: dict[str, Any]) -> Attrs:
    return {
        **PLATFORM.attrs(platform),
        **MOBILE.attrs(platform.get("mobileInfo") or {}),
        **BROWSER.attrs(platform.get("browserInfo") or {}),
    }


def execution_attrs(resource: dict[str, Any]) -> Attrs:
    """One test execution as plans read it (snake_case; job, project and device details flattened)."""
    return {
        **EXECUTION.attrs(resource),
        **JOB.attrs(resource.get("job") or {}),
        **PROJECT.attrs(resource.get("project") or {}),
        "custom_fields": {f["name"]: f.get("value") for f in resource.get("customFields") or []},
        "platforms": [_platform(p) for p in resource.get("platforms") or []],
    }


def status_counts(executions: list[Attrs]) -> dict[str, int]:
    """How many executions ended in each documented status (every status present, 0 when none)."""
    found = Counter(e.get("status") for e in executions)
    return {status: found.get(status, 0) for status in STATUSES}
