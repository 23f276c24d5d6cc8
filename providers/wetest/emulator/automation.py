"""Handlers of automation tests: submit, cancel, and read status, devices, metrics and the result."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.wetest.emulator.core import WeTestCore
from labform.providers.wetest.emulator.results import device_errors, perf_samples, result_stat
from labform.providers.wetest.emulator.submission import Submission, parse_submission
from labform.providers.wetest.emulator.timeline import Flakiness, device_result_at, plan_devices, status_at
from labform.providers.wetest.emulator.vocabulary import (
    FILES_HOST,
    FRAME_TYPES,
    RESULT_TEXT,
    STATUS_TEXT,
    DeviceResult,
    Ret,
    StatusCode,
)
from labform.providers.wetest.emulator.wire import check, flag, ok, rejected

# The log URLs a device result carries when asked (log=true), and the files they name.
LOG_FILES = (("mobile_log_url", "mobile.log"), ("script_log_url", "script.log"), ("test_video_url", "video.mp4"))


class AutomationHandlers(WeTestCore):
    """A test's life: submitted on chosen devices, read as it progresses, maybe cancelled."""

    async def submit_test(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError:
            raise rejected(Ret.BAD_PARAMETER, "request body must be a JSON object") from None
        submission = parse_submission(body, self.variants)
        with self.store.lock:
            self._project(submission.project)
            app = self.data["apps"].get(submission.app_fid)
            if app is None or app["project"] != submission.project:
                raise rejected(Ret.NOT_FOUND, f"app {submission.app_fid} not found in project {submission.project}")
            if submission.frame_type == "appium" and str(submission.script_id) not in self.data["scripts"]:
                raise rejected(Ret.NOT_FOUND, f"script {submission.script_id} not found")
            if submission.resign and app["platform"] != "ios" and self.variants.resign_non_ios == "refused":
                raise rejected(Ret.BAD_PARAMETER, "resign is for iOS apps only")
            cloud = self._cloud(submission.cloud_id)
            compatible = cloud["platform"] == app["platform"]
            if not compatible and self.variants.platform_mismatch == "refused":
                raise rejected(Ret.BAD_PARAMETER, f"cloud {cloud['cloud_id']} has no {app['platform']} devices")
            devices = self._choose_devices(submission)
            test_id = self.store.next_id("test", start=880000)
            self.data["tests"][str(test_id)] = {
                "test_id": test_id,
                "project": submission.project,
                "frame_type": submission.frame_type,
                "script_id": submission.script_id,
                "cloud_id": submission.cloud_id,
                "max_test_runtime": submission.max_test_runtime,
                "max_device_runtime": submission.max_device_runtime,
                "scenarios": submission.scenarios,
                "resign": submission.resign,
                "app": {k: app[k] for k in ("fid", "name", "package", "size", "version", "icon_url", "platform")},
                "submitted_at": self.now(),
                "canceled_at": None,
                "devices": plan_devices(test_id, devices, submission, self.options, compatible, self.flakiness()),
            }
        return ok(test_info=self.extra({"test_id": test_id}, device_number=len(devices)))

    def flakiness(self) -> Flakiness:
        return Flakiness(
            self.data.setdefault("flaky", {}),
            self.data.setdefault("flakyRuns", {}),
            self.options.flaky_rate,
            self.options.seed,
        )

    def _choose_devices(self, submission: Submission) -> list[dict[str, Any]]:
        in_cloud = [d for d in self.data["devices"] if d["cloud_id"] == submission.cloud_id]
        if not submission.devices:
            return self._pick_devices(in_cloud, submission)
        device_ids = {d["device_id"] for d in self.data["devices"]}
        model_ids = {d["model_id"] for d in self.data["devices"]}
        kinds = {
            "deviceids" if i in device_ids else "modelids" if i in model_ids else "unknown" for i in submission.devices
        }
        if {"deviceids", "modelids"} <= kinds:
            raise rejected(Ret.BAD_PARAMETER, "mixing device IDs and model IDs in devices is not allowed")
        wrong = [
            i
            for i in submission.devices
            if i not in (device_ids if submission.choose_type == "deviceids" else model_ids)
        ]
        if wrong:
            kind = "device" if submission.choose_type == "deviceids" else "model"
            raise rejected(
                Ret.BAD_PARAMETER,
                f"devices {wrong} are not {kind} IDs (device_choose_type is {submission.choose_type})",
            )
        if submission.choose_type == "deviceids":
            chosen = [d for i in submission.devices for d in in_cloud if d["device_id"] == i]
        else:
            # One device per model, an online one when the model has it.
            chosen = [
                min((d for d in in_cloud if d["model_id"] == i), key=lambda d: (not d["online"], d["device_id"]))
                for i in submission.devices
                if any(d["model_id"] == i for d in in_cloud)
            ]
        if len(chosen) != len(submission.devices):
            raise rejected(Ret.BAD_PARAMETER, f"some devices are not in cloud {submission.cloud_id}")
        caps = self.variants.device_number_with_devices == "caps" and submission.device_number >= 1
        return chosen[: submission.device_number] if caps else chosen

    def _pick_devices(self, in_cloud: list[dict[str, Any]], submission: Submission) -> list[dict[str, Any]]:
        """``device_number`` devices of the cloud, idle ones first; only idle ones on that variant."""
        if submission.device_number < 1:
            raise check.invalid("device_number", submission.device_number, "at least 1 when no devices are listed")
        busy = self._busy_devices()
        ranked = sorted(in_cloud, key=lambda d: (not d["online"], d["device_id"] in busy, d["device_id"]))
        if self.variants.device_number == "idle":
            ranked = [d for d in ranked if d["online"] and d["device_id"] not in busy]
        if not ranked:
            raise rejected(
                Ret.BAD_PARAMETER,
                f"cloud {submission.cloud_id} has no {'idle ' if self.variants.device_number == 'idle' else ''}device now",
            )
        return ranked[: submission.device_number]

    async def cancel_test(self, request: Request) -> Response:
        with self.store.lock:
            test = self._test(request)
            status, _ = status_at(test, self._elapsed(test))
            if status == StatusCode.TESTING:
                test["canceled_at"] = self.now()
            elif self.variants.cancel_ended == "refused":
                raise rejected(Ret.WRONG_STATE, f"test {test['test_id']} has already ended ({STATUS_TEXT[status]})")
        return ok()

    async def test_status(self, request: Request) -> Response:
        test = self._test(request)
        status, end = status_at(test, self._elapsed(test))
        finished = (
            status != StatusCode.TESTING if self.variants.finished == "any_end" else status == StatusCode.FINISHED
        )
        shown = {
            "finished": finished,
            **self.times(
                {
                    "start_time": self.stamp(test["submitted_at"]),
                    "end_time": self.stamp(None if end is None else test["submitted_at"] + end),
                }
            ),
            "test_id": test["test_id"],
            "status_code": int(status),
            "status": STATUS_TEXT[status],
        }
        return ok(test_status=self.extra(shown, frame_type=test["frame_type"]))

    async def test_devices(self, request: Request) -> Response:
        test = self._test(request)
        return ok(devices=[self._device_result(test, plan, request) for plan in test["devices"]])

    async def test_device(self, request: Request) -> Response:
        test = self._test(request)
        return ok(device=self._device_result(test, self._plan(test, request), request))

    def _device_result(self, test: dict[str, Any], plan: dict[str, Any], request: Request) -> dict[str, Any]:
        elapsed = self._elapsed(test)
        code, end = device_result_at(test, plan, elapsed)
        device = self._device(plan["device_id"])
        submitted, started = test["submitted_at"], elapsed >= plan["start"]
        result: dict[str, Any] = {
            "test_id": test["test_id"],
            "device_id": plan["device_id"],
            **self.times(
                {
                    "start_time": self.stamp(submitted),
                    "device_start_time": self.stamp(submitted + plan["start"] if started else None),
                    "end_time": self.stamp(None if end is None else submitted + end),
                }
            ),
            "wait_time": int(min(plan["start"], elapsed)),
            "case_stat": plan["cases"]
            if code == plan["outcome"]
            else {**plan["cases"], "case_success": 0, "case_fail": 0},
            **{k: device[k] for k in ("model", "version", "manufacture", "ram", "cpu_ghz", "cpu_total")},
            "result": RESULT_TEXT[code],
            "result_code": int(code),
            "cost_info": self._cost_info(submitted, plan, elapsed, end),
        }
        return {**result, **self._details(test, plan, code, end, request)}

    def _details(
        self, test: dict[str, Any], plan: dict[str, Any], code: DeviceResult, end: float | None, request: Request
    ) -> dict[str, Any]:
        """Errors, images and log URLs, those not asked for empty; on ``details-only-when-asked`` left out."""
        asked = {name: flag(request, name) for name in ("error", "image", "log")}
        shown = {name for name, on in asked.items() if on or self.variants.details == "always"}
        submitted, done = test["submitted_at"], end is not None
        base = f"{FILES_HOST}/reports/{test['test_id']}/{plan['device_id']}"
        details: dict[str, Any] = {}
        if "error" in shown:
            details["errors"] = device_errors(code, submitted + (end or 0), self.stamp) if asked["error"] else []
        if "image" in shown:
            shots = range(1, 4) if asked["image"] and done and code != DeviceResult.UNTESTED else []
            details["images"] = [
                {
                    "image_name": f"screenshot_{n}.png",
                    "image_time": self.stamp(submitted + plan["start"] + n),
                    "image_url": f"{base}/screenshot_{n}.png",
                }
                for n in shots
            ]
        if "log" in shown:
            details.update({key: f"{base}/{name}" if asked["log"] and done else "" for key, name in LOG_FILES})
        return details

    def _cost_info(
        self, submitted: float, plan: dict[str, Any], elapsed: float, end: float | None
    ) -> list[dict[str, Any]]:
        spans = [("queue", 0.0, plan["start"]), ("test", plan["start"], end)]
        return [
            {
                "process_name": name,
                "cost": int(stop - begin),
                "start_time": self.stamp(submitted + begin),
                "end_time": self.stamp(submitted + stop),
            }
            for name, begin, stop in spans
            if stop is not None and stop <= elapsed
        ]

    async def device_metrics(self, request: Request) -> Response:
        if request.query_params.get("type") != "perf":
            raise rejected(Ret.BAD_PARAMETER, "type must be perf")
        test = self._test(request)
        plan = self._plan(test, request)
        elapsed = self._elapsed(test)
        _, end = device_result_at(test, plan, elapsed)
        until = elapsed if end is None else min(end, elapsed)
        ios = test["app"]["platform"] == "ios"
        return ok(data=perf_samples(self.options.seed, test, plan, until, ios))

    async def test_result(self, request: Request) -> Response:
        test = self._test(request)
        elapsed = self._elapsed(test)
        status, end = status_at(test, elapsed)
        submitted = test["submitted_at"]
        app = test["app"]
        return ok(
            test_result={
                **self.times(
                    {
                        "start_time": self.stamp(submitted),
                        "end_time": self.stamp(None if end is None else submitted + end),
                    }
                ),
                "frame_type_code": FRAME_TYPES[test["frame_type"]],
                "frame_type": test["frame_type"],
                "report_url": f"{FILES_HOST}/cloudtest/report/{test['test_id']}",
                "status_code": int(status),
                "status": STATUS_TEXT[status],
                "test_id": test["test_id"],
                "test_type": "automation",
                "test_type_code": 1,
                "app_info": {
                    "app_type": app["platform"],
                    **{k: app[k] for k in ("icon_url", "name", "package", "size", "version")},
                },
                "result_stat": self.times(result_stat(test, elapsed, self.stamp, self.variants.rates == "percent")),
            }
        )
