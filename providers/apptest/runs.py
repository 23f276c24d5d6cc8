"""apptest_testset: an apptest.ai testset, started once per distinct set of triggers.

Without ``triggers``, the app's sha256 (taken at plan time) is the trigger:
a new build starts a new testset, the same build never does. The rest is the
shared run flow (providers/runs.py): ``wait`` polls the testset status and
shows its counts, ``junit`` writes the cloud's result_xml (its testcases, one
per device, are the run's record), ``gate`` bounds the pass / fail / error
counts. ``retry: {only: all}`` is the one form apptest.ai can do: its API runs a
whole testset, nothing smaller, so each attempt is a new testset of the same app
(named ``<testset_name> attempt N``), its counts the run's once it completed.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from labform.providers.apptest.admission import TestsetBudget, TestsetPick
from labform.providers.apptest.client import CLOUD, AppTestClient
from labform.providers.base import Attrs, Context, RunFacts, arg
from labform.providers.errors import ProviderError
from labform.providers.junit import renamed_suites
from labform.providers.run_record import CaseResult, RunRecord, seconds_of
from labform.providers.runs import RetryPolicy, RunArguments, RunProgress, RunResource, judged, recorded

# One copy of the local-file helpers for both providers, until providers/transfer.py has them.
from labform.providers.transfer import file_digest, local_file_digest, streamed_part

# What the Run New Testset call accepts (error 4050 otherwise).
APP_EXTENSIONS = ("apk", "xapk", "apks", "ipa", "app", "zip")
COMPLETE = "Complete"
MAX_NAME = 100  # testset_name's limit (Run New Testset)

log = logging.getLogger("labform.apptest")


def _client(ctx: Context) -> AppTestClient:
    return ctx.client


class AppTestGate(BaseModel):
    """When a finished testset passes; at least one bound."""

    model_config = ConfigDict(extra="forbid")
    max_failed: int | None = Field(None, ge=0, description="At most this many tests may fail.")
    max_errors: int | None = Field(None, ge=0, description="At most this many tests may end in error.")
    min_passed: int | None = Field(None, ge=0, description="At least this many tests must pass.")

    @model_validator(mode="after")
    def _some_bound(self):
        if self.max_failed is None and self.max_errors is None and self.min_passed is None:
            raise ValueError("set max_failed, max_errors or min_passed")
        return self


class TestsetRetry(RetryPolicy):
    forms: ClassVar[dict[str, str]] = {"all": "the whole testset, as a new testset of the same app"}
    cloud: ClassVar[str] = "apptest"


class TestsetArgs(RunArguments):
    retry: TestsetRetry | None = arg(
        None, local=True, description="Run the whole testset again while any device failed (needs wait)."
    )
    pid: int = arg(force_new=True, ge=1, description="Project id, e.g. 509.")
    path: str = arg(
        local_file=True,
        description="The app (.apk .xapk .apks .ipa .app .zip), relative to the working directory (in a module, to its folder).",
    )
    testset_name: str = arg(
        force_new=True, min_length=1, max_length=MAX_NAME, description="The testset's name on apptest.ai."
    )
    time_limit: int | None = arg(
        None, force_new=True, ge=5, le=30, description="Minutes, 5 to 30; the project's setting when unset."
    )
    time_limmit: int | None = arg(
        None,
        force_new=True,
        ge=5,
        le=30,
        deprecated="write time_limit",
        description="The API doc's misspelling of time_limit; read as it, with a warning.",
    )
    use_vo: bool | None = arg(None, force_new=True, description="Record with AT&T Video Optimizer (ARO).")
    callback: str | None = arg(
        None, force_new=True, max_length=250, description="URL called when the testset completes."
    )
    login_id: str | None = arg(
        None,
        force_new=True,
        sensitive=True,
        max_length=150,
        description="Account the test bot signs in with (credentials.login_id).",
    )
    login_pw: str | None = arg(
        None, force_new=True, sensitive=True, max_length=150, description="Its password (credentials.login_pw)."
    )
    gate: AppTestGate | None = arg(
        None,
        local=True,
        description="Fail the apply unless the finished testset's counts are within these bounds (needs wait).",
    )
    on_destroy: Literal["keep"] = arg(
        "keep", local=True, description="apptest.ai has no call to delete a testset: its history stays."
    )
    budget: TestsetBudget | None = arg(None, local=True, description="Fail the plan when its estimate is over this.")
    pick: TestsetPick | None = arg(None, local=True, description="Not on this cloud (a validate error says why).")


def _counts(status: dict[str, Any]) -> Attrs:
    detail = status.get("testset_status_detail") or {}
    names = {
        "total": "total_test_cnt",
        "passed": "pass_cnt",
        "failed": "fail_cnt",
        "errors": "error_cnt",
        "stopped": "stop_cnt",
    }
    return {ours: int(detail.get(cloud) or 0) for ours, cloud in names.items()}


def _request_data(desired: Attrs) -> dict[str, Any]:
    """The JSON ``data`` part with every key the doc's table marks Required (lines 39-45); what the plan
    leaves unset goes blank: use_vo false (its stated default), callback and credentials "", the time
    limit null ("if empty, the project's setting applies", line 41). The time limit goes under both its
    spellings, the table's ``time_limmit`` and the example's ``time_limit``, so a server reading either
    finds it."""
    time_limit = desired.get("time_limit") or desired.get("time_limmit")
    return {
        "pid": desired["pid"],
        "testset_name": desired["testset_name"],
        "time_limit": time_limit,
        "time_limmit": time_limit,
        "use_vo": bool(desired.get("use_vo")),
        "callback": desired.get("callback") or "",
        "credentials": {"login_id": desired.get("login_id") or "", "login_pw": desired.get("login_pw") or ""},
    }


class Testset(RunResource):
    """An apptest.ai testset: the test bot runs the app once per distinct triggers (by default, the app's sha256)."""

    type_name = "apptest_testset"
    cloud = CLOUD
    cannot_shard = "a test set tests the whole app (its start selects no tests)"
    Args = TestsetArgs
    # No natural key: the API's three calls are Run New Testset and, by testset_id, its status and
    # result; nothing lists testsets, so a testset_name cannot be searched for after a lost answer.
    computed = ("id", "sha256", "test_count", "status", "total", "passed", "failed", "errors", "stopped")
    lookup_proves_absence = False  # nothing lists testsets (above)

    def plan_attributes(self, desired, address=""):
        digest = local_file_digest(desired.get("path"), "sha256", APP_EXTENSIONS)
        # Without triggers the app's hash is the trigger: a plan-time attribute that changes forces a new testset.
        return {} if digest is None or desired.get("triggers") else {"sha256": digest}

    def check(self, desired):
        problems = super().check(desired)
        if desired.get("time_limmit") is not None:
            if desired.get("time_limit") is not None:
                problems.append(("time_limmit", "set time_limit only (time_limmit is the API doc's misspelling of it)"))
            else:
                log.warning(
                    "apptest_testset: 'time_limmit' (the API doc's misspelling) is read as time_limit; please rename it"
                )
        return problems

    def read(self, ctx, id, prior):
        status = _client(ctx).testset(id)
        return {"id": int(id), "status": status["testset_status"], **_counts(status)}

    # --- run hooks ------------------------------------------------------------
    def start(self, ctx, desired):
        path = Path(desired["path"])
        created = _client(ctx).create_testset(_request_data(desired), partial(streamed_part, path, ctx.progress))
        testset_id = created["testset_id"]
        ctx.progress(f"testset {testset_id}: started, {created.get('test_count')} tests")
        return {
            "id": testset_id,
            "sha256": desired.get("sha256") or file_digest(path),
            "test_count": created.get("test_count"),
            "testset_name": desired["testset_name"],
            "status": "Running",
        }

    def progress(self, ctx, attrs):
        status = _client(ctx).testset(attrs["id"])
        counts = _counts(status)
        detail = status.get("testset_status_detail") or {}
        text = (
            f"{status['testset_status']}: {counts['passed']} passed, {counts['failed']} failed, {counts['errors']} errors, "
            f"{counts['stopped']} stopped, {detail.get('running_cnt', 0)} running, "
            f"{detail.get('initializing_cnt', 0)} initializing (of {counts['total']})"
        )
        return RunProgress(status["testset_status"] == COMPLETE, text, {"status": status["testset_status"], **counts})

    def facts(self, attrs: Attrs) -> RunFacts:
        """From the record (its "tests" are devices, as the JUnit the cloud writes has them), else the
        testset's own counts (no devices: the cloud's counts alone do not say how many ran it)."""
        counts = recorded(attrs) or RunFacts(passed=attrs.get("passed"), failed=attrs.get("failed"))
        return judged(attrs, counts)

    def stop(self, ctx, attrs):
        """apptest.ai has no call to stop a testset: it runs to its end, labform only forgets it."""
        ctx.progress(f"testset {attrs['id']}: still running; apptest.ai cannot stop it, so it runs to its end")

    def rerun(self, ctx, desired, attrs, units, number):
        """A new testset of the same app and settings, named after the first."""
        name = f"{desired['testset_name'][: MAX_NAME - 12]} attempt {number}"
        path = Path(desired["path"])
        data = _request_data({**desired, "testset_name": name})
        created = _client(ctx).create_testset(data, partial(streamed_part, path, ctx.progress))
        ctx.progress(f"testset {created['testset_id']}: attempt {number} started ({name})")
        return {"id": created["testset_id"]}

    def fold_attempt(self, attrs, attempt):
        """The whole testset ran again: its counts are the run's."""
        return {**attrs, **attempt["progress"]}

    def cases(self, ctx, attrs, attempt):
        """The cloud's testcases, one per device (an error: the device did not pass)."""
        found = []
        for suite in self._cloud_suites(ctx, attrs):
            for case in suite.iter("testcase"):
                error, output = case.find("error"), case.find("system-out")
                device = case.get("name") or ""
                found.append(
                    CaseResult(
                        case.get("classname") or suite.get("name") or "",
                        device,
                        device,
                        "testset",
                        "passed" if error is None else "error",
                        seconds_of(case.get("time")),
                        "" if error is None else (error.get("message") or error.text or ""),
                        output.text if output is not None else None,
                    )
                )
        return found

    def junit_suites(self, ctx, attrs):
        """From the record: one suite named after the testset, a testcase per device with every attempt."""
        name = attrs.get("testset_name") or f"testset {attrs['id']}"
        return RunRecord.from_json(attrs["record"]).junit_suites({"run_id": str(attrs["id"])}, lambda case: name)

    def _cloud_suites(self, ctx: Context, attrs: Attrs) -> list[Any]:
        """The cloud's own JUnit XML (one testcase per device), its suites named after the testset; each
        error message names its device beside the result page's URL (the cloud writes the URL alone)."""
        xml = _client(ctx).result(attrs["id"]).get("result_xml")
        if not xml:
            raise ProviderError(CLOUD, "read testset result", None, f"testset {attrs['id']} has no result_xml")
        suites = renamed_suites(xml.encode(), attrs.get("testset_name") or f"testset {attrs['id']}")
        for case in (case for suite in suites for case in suite.iter("testcase")):
            for error in case.iter("error"):
                url = error.get("message", "")
                error.set(
                    "message", f"{case.get('name')} did not pass: {url}" if url else f"{case.get('name')} did not pass"
                )
                error.text = error.text or url or None
        return suites

    def gate_failure(self, desired, attrs):
        """What missed the bar, counted as the cloud counts: one test per device. Failed and error devices
        are both JUnit errors (the cloud's result_xml has no failure element), so the message says so."""
        gate = desired.get("gate")
        if not gate:
            return None
        passed, failed, errors = attrs.get("passed", 0), attrs.get("failed", 0), attrs.get("errors", 0)
        misses = []
        if gate.get("max_failed") is not None and failed > gate["max_failed"]:
            misses.append(
                f"{_devices(failed)} failed (JUnit errors, as the cloud writes them), at most {gate['max_failed']} allowed"
            )
        if gate.get("max_errors") is not None and errors > gate["max_errors"]:
            misses.append(f"{_devices(errors)} ended in error (JUnit errors too), at most {gate['max_errors']} allowed")
        if gate.get("min_passed") is not None and passed < gate["min_passed"]:
            misses.append(f"{_devices(passed)} passed, at least {gate['min_passed']} needed")
        if not misses:
            return None
        return f"{'; '.join(misses)}; of {_devices(attrs.get('total', 0))}: {passed} passed, {failed} failed, {errors} errors"


def _devices(count: int) -> str:
    return f"{count} device{'' if count == 1 else 's'}"
