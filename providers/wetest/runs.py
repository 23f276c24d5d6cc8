"""wetest_test: an automation test, following the shared run flow (providers/runs.py).

Created once per triggers; ``wait`` follows it to the end; JUnit has one
testcase per device with its result code's meaning; the gate counts passing
devices or cases. Destroying a test still running cancels it. A submit whose
answer is lost is resolved by the chosen devices' current test (``_sighted``):
WeTest lists no tests, so a test not seen there is never submitted again: it stays
unresolved (``lookup_proves_absence = False``) until ``labform state resolve`` says.

Each device is a case of the run's record (providers/run_record.py): WeTest
reports per device (its case counts, no test names), so retries and flakiness
are per device. ``retry: {only: failed_devices}`` submits a new test on the
devices that did not pass (by their device ids, the submit's ``devices``), ``all``
on every device; each attempt's results replace the earlier ones of its devices,
so the pass rates and the gate read each device by its last attempt, and
``gate.flaky: fail`` fails a device that passed only on a retry. A device WeTest
could not test (result_code 3, "untested (device exception)") by its last
attempt fails the apply with that name, gate or not: it is never a pass.

Only documented keys are read, and each as loosely as the doc types it: a
test has ended when ``finished`` says so or its ``status_code`` is no longer 0
("0 for testing"), times are any format ``times.py`` reads, and every field the
doc marks Required is sent (those with a stated default, with that default).
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from labform.providers.base import Attrs, Context, RunFacts, arg
from labform.providers.errors import ProviderError
from labform.providers.mapping import FieldMap
from labform.providers.picking import applied, conflicts
from labform.providers.run_record import CaseResult, Outcome, RunRecord
from labform.providers.runs import RetryPolicy, RunArguments, RunProgress, RunResource, judged, per_device, recorded
from labform.providers.wetest.admission import DEFAULT_TEST_RUNTIME, TestBudget, TestPick
from labform.providers.wetest.client import CLOUD
from labform.providers.wetest.client import client_of as _client
from labform.providers.wetest.times import span, unreadable

# Device result codes as the doc defines them (Get Results of Devices in Test).
RESULT_MEANINGS = {
    0: "running",
    1: "passed",
    2: "has compatibility error",
    3: "untested (device exception)",
    4: "timeout",
    5: "system canceled",
    6: "user canceled",
}
PASSED = 1
UNTESTED = 3  # "untest(caused by device exception)": the device was not there to test on
TESTING = 0  # status_code "0 for testing"; any other code is an end
# How a device's result counts in the run's record.
RECORD_OUTCOMES: dict[int, Outcome] = {1: "passed", 2: "failed", 3: "error", 4: "error", 5: "error"}
# The record's class name of every device's case (JUnit classname; the test id is "wetest.<device>").
CASE_CLASS = "wetest"
DEFAULT_DEVICE_RUNTIME = 600
SCENARIOS = r"^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$"
# Required fields of Submit Automation Test (doc lines 245-251) with the default the doc states for each.
REQUIRED_DEFAULTS = {
    "frame_type": "appium",
    "max_test_runtime": DEFAULT_TEST_RUNTIME,
    "max_device_runtime": DEFAULT_DEVICE_RUNTIME,
}

log = logging.getLogger("labform.wetest")


class WeTestGate(BaseModel):
    """When a finished test passes, each device by its last attempt."""

    model_config = ConfigDict(extra="forbid")
    min_pass_rate: float = Field(ge=0, le=1, description="Share that must pass, from 0 to 1.")
    over: Literal["devices", "cases"] = Field(
        "devices", description="Count passed devices, or passed test cases over all devices."
    )
    flaky: Literal["allow", "fail"] = Field(
        "allow", description="A device that failed and then passed on a retry: allowed (reported), or a failure."
    )
    quarantine: list[str] = Field(
        default_factory=list,
        description="Not on this cloud: WeTest counts each device's cases and never names them (a validate error).",
    )

    @field_validator("quarantine")
    @classmethod
    def _no_names_to_quarantine(cls, value: list[str]) -> list[str]:
        if value:
            raise ValueError(
                "wetest reports how many cases passed, failed or timed out on each device, never their names, "
                "so no test can be quarantined; its gate counts devices or cases as the cloud reports them"
            )
        return value


class AutomationTestRetry(RetryPolicy):
    forms: ClassVar[dict[str, str]] = {
        "failed_devices": "the devices that did not pass, as a new test on their device ids",
        "all": "every device, as a new test on their device ids",
    }
    cloud: ClassVar[str] = "wetest"


class AutomationTestArgs(RunArguments):
    retry: AutomationTestRetry | None = arg(
        None, local=True, description="Re-run the devices that did not pass, up to attempts in total (needs wait)."
    )
    project: str = arg(force_new=True, min_length=1, description="Project id, e.g. ${data.wetest_projects.NAME.id}.")
    app: str = arg(force_new=True, min_length=1, description="App fid, e.g. ${wetest_app.NAME.fid}.")
    script: int | None = arg(None, force_new=True, ge=1, description="Script id; required when frame_type is appium.")
    frame_type: Literal["appium", "game_loop"] | None = arg(
        None, force_new=True, description="appium (the cloud's default) or game_loop."
    )
    cloud_id: int = arg(force_new=True, ge=1, description="Device farm (data wetest_clouds).")
    device_number: int | None = arg(
        None, force_new=True, ge=1, description="How many devices; defaults to the number of devices listed."
    )
    devices: list[int] | None = arg(
        None,
        force_new=True,
        unordered=True,
        min_length=1,
        description="Device ids, or model ids with device_choose_type modelids.",
    )
    device_choose_type: Literal["deviceids", "modelids"] | None = arg(
        None, force_new=True, description="What devices lists (cloud default deviceids)."
    )
    max_test_runtime: int | None = arg(
        None, force_new=True, ge=1, description=f"Seconds for the whole test (cloud default {DEFAULT_TEST_RUNTIME})."
    )
    max_device_runtime: int | None = arg(
        None, force_new=True, ge=1, description=f"Seconds per device (cloud default {DEFAULT_DEVICE_RUNTIME})."
    )
    scenarios: str | None = arg(
        None, force_new=True, pattern=SCENARIOS, description='Game Loop only: loops to run, e.g. "1-3, 5".'
    )
    scenario_labels: str | None = arg(
        None, force_new=True, description="Game Loop only: scenario labels from the manifest."
    )
    resign: bool | None = arg(None, force_new=True, description="iOS only: re-sign the ipa.")
    gate: WeTestGate | None = arg(
        None, local=True, description="Fail the apply when the finished test's pass rate is below this (needs wait)."
    )
    on_destroy: Literal["keep"] = arg(
        "keep", local=True, description="WeTest has no call to delete a test: its history stays."
    )
    budget: TestBudget | None = arg(None, local=True, description="Fail the plan when its estimate is over this.")
    pick: TestPick | None = arg(
        None,
        local=True,
        force_new=True,
        description="Instead of devices: the first count devices of a pool that are free now.",
    )


TEST_FIELDS = FieldMap(
    project="project",
    app="app_hash_id",
    script="script_id",
    frame_type="frame_type",
    cloud_id="cloud_id",
    device_number="device_number",
    devices="devices",
    device_choose_type="device_choose_type",
    max_test_runtime="max_test_runtime",
    max_device_runtime="max_device_runtime",
    scenarios="scenarios",
    scenario_labels="scenario_labels",
    resign="resign",
)


def _scenarios_problem(scenarios: str) -> str | None:
    """What the pattern cannot see: ranges that run backwards, loop 0."""
    for first, last in re.findall(r"(\d+)\s*-\s*(\d+)", scenarios):
        if int(last) < int(first):
            return f"the range {first}-{last} runs backwards"
    return "loops are numbered from 1" if re.search(r"(?<!\d)0+(?!\d)", scenarios) else None


def _ended(status: dict[str, Any]) -> bool:
    return bool(status.get("finished")) or status.get("status_code", TESTING) != TESTING


def _device_result(device: dict[str, Any]) -> dict[str, Any]:
    """A device's result as state keeps it; ``seconds`` is None when its times are missing or unreadable
    (``unreadable_times`` then keeps what was given, for the JUnit warning)."""
    cases = device.get("case_stat") or {}
    start, end = device.get("device_start_time"), device.get("end_time")
    result = {
        "device_id": device["device_id"],
        "model": device.get("model", ""),
        "version": device.get("version", ""),
        "result_code": device.get("result_code", 0),
        "cases": {key: int(cases.get(f"case_{key}") or 0) for key in ("total", "success", "fail", "timeout")},
        "seconds": span(start, end),
    }
    garbled = unreadable(start, end)
    return {**result, "unreadable_times": garbled} if garbled else result


def _label(device: dict[str, Any]) -> str:
    return f"{device['model']} #{device['device_id']}"


def _meaning(device: dict[str, Any]) -> str:
    return RESULT_MEANINGS.get(device["result_code"], f"result_code {device['result_code']}")


def _rates(devices: list[dict[str, Any]]) -> Attrs:
    total_cases = sum(d["cases"]["total"] for d in devices)
    return {
        "pass_rate": round(sum(d["result_code"] == PASSED for d in devices) / len(devices), 4) if devices else 0.0,
        "case_pass_rate": round(sum(d["cases"]["success"] for d in devices) / total_cases, 4) if total_cases else 0.0,
    }


def _device_detail(device: dict[str, Any]) -> str:
    cases = device["cases"]
    return (
        f"result_code {device['result_code']}: {_meaning(device)}; cases {cases['success']}/{cases['total']} passed, "
        f"{cases['fail']} failed, {cases['timeout']} timed out"
    )


class AutomationTest(RunResource):
    """An automation test (a run) on the cloud's devices, started once per distinct triggers."""

    type_name = "wetest_test"
    cloud = CLOUD
    cannot_shard = "its submit takes devices, with no test selection"
    Args = AutomationTestArgs
    computed = ("id", "status", "status_code", "pass_rate", "case_pass_rate", "device_results", "report_url")
    # Get Devices shows only each device's *current* test: a test queued, or already done, is not
    # there, so not seeing it never proves a lost submit made nothing (``_sighted`` must find it).
    lookup_proves_absence = False
    # min_pass_rate and over are WeTest's own (devices or cases); the record judges flakiness.
    record_gate_fields = ("flaky",)

    def check(self, desired):
        problems = super().check(desired)
        frame_type = desired.get("frame_type") or "appium"
        if frame_type == "appium" and desired.get("script") is None:
            problems.append(
                ("script", "script is required when frame_type is appium (the default); upload one with wetest_script")
            )
        for key in ("scenarios", "scenario_labels"):
            if frame_type != "game_loop" and desired.get(key) is not None:
                problems.append((key, f"{key} is for frame_type game_loop only"))
        if isinstance(desired.get("scenarios"), str) and (why := _scenarios_problem(desired["scenarios"])):
            problems.append(("scenarios", f"cannot read '{desired['scenarios']}': {why}"))
        problems += conflicts(desired, ("devices", "device_number", "device_choose_type"))
        if not desired.get("devices") and desired.get("device_number") is None and not desired.get("pick"):
            problems.append(("device_number", "device_number (how many devices) or devices (which ones) is required"))
        if desired.get("device_choose_type") and not desired.get("devices"):
            problems.append(("device_choose_type", "device_choose_type only applies together with devices"))
        test_runtime = desired.get("max_test_runtime") or DEFAULT_TEST_RUNTIME
        device_runtime = desired.get("max_device_runtime") or DEFAULT_DEVICE_RUNTIME
        if isinstance(test_runtime, int) and isinstance(device_runtime, int) and device_runtime > test_runtime:
            problems.append(
                (
                    "max_device_runtime",
                    f"max_device_runtime ({device_runtime}s) must not exceed max_test_runtime ({test_runtime}s)",
                )
            )
        return problems

    def check_remote(self, ctx, desired):
        """The cloud is the account's, device ids exist in it and are of the declared kind; resign only
        for an .ipa. A device_number above the cloud's devices is only warned of: the doc does not say
        what the cloud does then (it may run on fewer)."""
        problems = []
        if desired.get("resign") and isinstance(desired.get("app"), str):
            app = _client(ctx).app(desired["project"], fid=desired["app"])
            if not str(app.get("name", "")).lower().endswith(".ipa"):
                problems.append(("resign", f"resign is for iOS apps only, and {app.get('name')} is not an .ipa"))
        if not isinstance(desired.get("cloud_id"), int):
            return problems
        if isinstance(desired.get("devices"), list):
            return problems + _device_choice(ctx, desired)[0]
        problem, catalogue = _cloud_devices(ctx, desired["cloud_id"])
        wanted = desired.get("device_number")
        if problem is None and isinstance(wanted, int) and wanted > len(catalogue):
            log.warning(
                "wetest_test: device_number %d is more than the %d devices cloud %d has; it may run on fewer",
                wanted,
                len(catalogue),
                desired["cloud_id"],
            )
        return problems + ([problem] if problem else [])

    def estimate(self, ctx, desired):
        """Name the devices the test will run on."""
        return _device_choice(ctx, desired)[1] if desired.get("devices") else None

    def read(self, ctx, id, prior):
        status = _client(ctx).test_status(id)
        return {"id": status["test_id"], "status": status["status"], "status_code": status["status_code"]}

    # --- run hooks ------------------------------------------------------------
    def start(self, ctx, desired):
        return {**self._submit(ctx, desired), "status": "testing", "status_code": 0}

    def rerun(self, ctx, desired, attrs, units, number):
        """A new test of the same app and script on the devices ``units`` (device ids)."""
        # The failed devices again, by id: a pick chose the first attempt's devices, not this one's.
        on = {**desired, "pick": None, "devices": [int(u) for u in units], "device_choose_type": "deviceids"}
        on["device_number"] = len(units)
        submitted = self._submit(ctx, on)
        ctx.progress(f"test {submitted['id']}: attempt {number} on devices {', '.join(units)}")
        return submitted

    def _submit(self, ctx: Context, desired: Attrs) -> Attrs:
        """Every Required field goes out: those the plan leaves unset with the doc's default."""
        desired = applied(self.Args, ctx, desired, CLOUD)
        body = {**REQUIRED_DEFAULTS, **TEST_FIELDS.params(desired)}
        body.setdefault("device_number", len(desired.get("devices") or []))
        before = _current_tests(ctx, desired["cloud_id"])
        try:
            test_id = _client(ctx).submit_test(body)
        except ProviderError as error:
            if not error.ambiguous:
                raise
            test_id = _sighted(ctx, desired, body["device_number"], before, error)
        ctx.progress(f"test {test_id}: submitted to cloud {desired['cloud_id']}")
        picked = {key: desired[key] for key in ("devices", "picked") if desired.get("pick")}
        return {"id": test_id, **picked}

    def status(self, ctx, attrs):
        """While waiting, the test's status alone (one read); the devices are read once it ended."""
        id = str(attrs["id"])

        def read(ids: set) -> dict[str, RunProgress]:
            status = _client(ctx).test_status(id)
            return {
                id: RunProgress(
                    _ended(status),
                    status["status"],
                    {"status": status["status"], "status_code": status["status_code"]},
                    partial=True,
                )
            }

        return ctx.statuses.read((self.type_name, id), id, read, self.status_interval, ctx.stop)

    def progress(self, ctx, attrs):
        status = _client(ctx).test_status(attrs["id"])
        devices = [_device_result(d) for d in _client(ctx).test_devices(attrs["id"])]
        done = [d for d in devices if d["result_code"] != 0]
        passed = sum(d["result_code"] == PASSED for d in devices)
        text = f"{status['status']}, devices {len(done)}/{len(devices)} finished, {passed} passed"
        found = {
            "status": status["status"],
            "status_code": status["status_code"],
            "device_results": devices,
            **_rates(devices),
        }
        if _ended(status):
            found["report_url"] = _client(ctx).test_result(attrs["id"]).get("report_url")
        return RunProgress(_ended(status), text, found)

    def cases(self, ctx, attrs, attempt):
        """Each device of the attempt, one case: its result_code meaning and case counts (in every
        testcase, passed ones too), its time (left out where unreadable)."""
        return [
            CaseResult(
                CASE_CLASS,
                _label(device),
                _label(device),
                str(device["device_id"]),
                RECORD_OUTCOMES.get(device["result_code"], "skipped"),
                device["seconds"],
                _device_detail(device),
                _device_detail(device),
            )
            for device in attrs.get("device_results") or []
        ]

    def fold_attempt(self, attrs, attempt):
        """The re-run devices' results in place of their earlier ones, and the rates again: every
        device by its last attempt."""
        later = {d["device_id"]: d for d in attempt["progress"].get("device_results") or []}
        devices = [later.get(d["device_id"], d) for d in attrs.get("device_results") or []]
        return {**attrs, "device_results": devices, **_rates(devices)}

    def junit_suites(self, ctx, attrs):
        """One testsuite, a testcase per device with every attempt; a time that cannot be read is
        left out of its testcase, with a warning, rather than shown as 0 seconds."""
        devices = attrs.get("device_results") or []
        garbled = [f"{_label(d)} ({', '.join(d['unreadable_times'])})" for d in devices if d.get("unreadable_times")]
        if garbled:
            log.warning(
                "wetest test %s: cannot read the times of %s; their JUnit testcases have no time",
                attrs["id"],
                "; ".join(garbled),
            )
        name = f"wetest test {attrs['id']}"
        properties = {"report_url": attrs.get("report_url") or ""}
        return RunRecord.from_json(attrs["record"]).junit_suites(properties, lambda case: name)

    def gate_failure(self, desired, attrs):
        gate = desired.get("gate")
        if not gate:
            return None
        return _rate_failure(gate, attrs)

    def unavailable(self, attrs):
        """A device WeTest could not test, by its last attempt: never a pass."""
        untested = [_label(d) for d in attrs.get("device_results") or [] if d["result_code"] == UNTESTED]
        if not untested:
            return None
        return (
            f"{len(untested)} device(s) could not be tested (result_code 3, {RESULT_MEANINGS[UNTESTED]}): "
            f"{', '.join(untested)}; choose other devices, or retry them"
        )

    def facts(self, attrs: Attrs) -> RunFacts:
        """From the record, as its JUnit counts: a case per device, by its last attempt (the cloud
        reports case counts, never names); without one, each device's successful and failed cases."""
        counts = recorded(attrs) or per_device(
            attrs.get("device_results"),
            lambda d: d["cases"]["success"],
            lambda d: d["cases"]["fail"] + d["cases"]["timeout"],
        )
        return judged(attrs, counts)

    def stop(self, ctx, attrs):
        """Cancel the test; if it ended meanwhile there is nothing to cancel."""
        ctx.progress(f"test {attrs['id']}: still running; cancelling it")
        try:
            _client(ctx).cancel_test(attrs["id"])
        except ProviderError:
            if not _ended(_client(ctx).test_status(attrs["id"])):
                raise


def _rate_failure(gate: dict[str, Any], attrs: Attrs) -> str | None:
    """What the pass rate over devices or cases (each device by its last attempt) misses, or None."""
    over = gate.get("over", "devices")
    devices = attrs.get("device_results") or []
    rate = attrs.get("pass_rate" if over == "devices" else "case_pass_rate") or 0.0
    if rate >= gate["min_pass_rate"]:
        return None
    if over == "devices":
        counted = f"{sum(d['result_code'] == PASSED for d in devices)}/{len(devices)} devices passed"
    else:
        counted = (
            f"{sum(d['cases']['success'] for d in devices)}/{sum(d['cases']['total'] for d in devices)} cases passed"
        )
    failing = ", ".join(f"{_label(d)} ({_meaning(d)})" for d in devices if d["result_code"] != PASSED) or "none"
    return (
        f"pass rate over {over} {rate:.2f} ({counted}) is below {gate['min_pass_rate']:.2f}; failing devices: {failing}"
    )


def _current_tests(ctx: Context, cloud_id: int) -> set[int]:
    """The tests the cloud's devices are running now. WeTest lists no tests, but Get Devices names
    each device's ``"test_id": int, // current test ID``: a test submitted to idle devices shows
    there, which is how a submit whose answer was lost finds its test (``_sighted``)."""
    return {d["test_id"] for d in _client(ctx).devices(cloud_id) if d.get("test_id")}


def _sighted(ctx: Context, desired: Attrs, device_number: int, before: set[int], error: ProviderError) -> int:
    """The one test that appeared on the cloud's devices since the submit and runs on what it asked
    for (those device ids, or that many devices). A test not seen (queued behind another, or done
    already) may still exist, so seeing none is no proof: the submit stays ambiguous, never resent."""
    asked = (
        {int(i) for i in desired.get("devices") or []}
        if (desired.get("device_choose_type") or "deviceids") == "deviceids"
        else set()
    )
    count = len(desired.get("devices") or []) or device_number

    def ours(test_id: int) -> bool:
        ids = {d["device_id"] for d in _client(ctx).test_devices(str(test_id))}
        return ids == asked if asked else len(ids) == count

    try:
        found = [t for t in sorted(_current_tests(ctx, desired["cloud_id"]) - before) if ours(t)]
        seen = f"{len(found)} new tests" if found else "no new test"
    except ProviderError as looking:
        found, seen = [], f"looking for it failed: {looking.message}"
    if len(found) != 1:
        raise ProviderError(
            CLOUD, error.operation, error.status, f"{error.message}; {seen} on the chosen devices", ambiguous=True
        )
    ctx.progress(
        f"test {found[0]}: the submit's answer was lost ({error.message}); found the test on the chosen devices"
    )
    return found[0]


def _cloud_devices(ctx: Context, cloud_id: int) -> tuple[tuple[str, str] | None, list[dict[str, Any]]]:
    """(problem, devices): the cloud's devices, once the clouds listing shows it is the account's."""
    clouds = [c["cloud_id"] for c in _client(ctx).clouds()]
    if cloud_id not in clouds:
        return (
            "cloud_id",
            f"the account has no cloud {cloud_id} (its clouds: {_ids(clouds) or 'none'}; data wetest_clouds lists them)",
        ), []
    return None, _client(ctx).devices(cloud_id)


def _device_choice(ctx: Context, desired: Attrs) -> tuple[list[tuple[str, str]], str | None]:
    """(problems, note): ids the cloud lacks or of the other kind, and the devices chosen."""
    cloud_id, kind = desired["cloud_id"], desired.get("device_choose_type") or "deviceids"
    wanted = [int(i) for i in desired["devices"]]
    problem, catalogue = _cloud_devices(ctx, cloud_id)
    if problem:
        return [problem], None
    by_kind = {"deviceids": {d["device_id"]: d for d in catalogue}, "modelids": {d["model_id"]: d for d in catalogue}}
    other = "modelids" if kind == "deviceids" else "deviceids"
    noun = {"deviceids": "device", "modelids": "model"}
    wrong_kind = [i for i in wanted if i in by_kind[other] and i not in by_kind[kind]]
    if wrong_kind:
        message = f"{_ids(wrong_kind)} are {noun[other]} ids, but device_choose_type is {kind}: mixing device ids and model ids is not allowed"
        return [("devices", message)], None
    unknown = [i for i in wanted if i not in by_kind[kind]]
    if unknown:
        return [
            ("devices", f"cloud {cloud_id} has no {noun[kind]} {_ids(unknown)} (data wetest_devices lists them)")
        ], None
    chosen = [by_kind[kind][i] for i in wanted]
    if kind == "modelids":
        return [], f"on one device of each model: {', '.join(d['model'] for d in chosen)}"
    # device_state's words are not documented: "offline" in them is a note, never a rule.
    offline = [_label(d) for d in chosen if "offline" in str(d.get("device_state", "")).lower()]
    return [], f"on {', '.join(_label(d) for d in chosen)}" + (
        f"; offline now: {', '.join(offline)}" if offline else ""
    )


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)
