"""Handlers of automation tests: submit, cancel, and read status, devices, metrics and the result."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from providers.wetest.emulator.core import WeTestCore
from providers.wetest.emulator.results import device_errors, perf_samples, result_stat
from providers.wetest.emulator.submission import Submission, parse_submission
from providers.wetest.emulator.timeline import device_result_at, plan_devices, status_at
from providers.wetest.emulator.vocabulary import FILES_HOST, FRAME_TYPES, RESULT_TEXT, STATUS_TEXT, DeviceResult, Ret, StatusCode
from providers.wetest.emulator.wire import flag, ok, rejected, timestamp


class AutomationHandlers(WeTestCore):
    """A test's life: submitted on chosen devices, read as it progresses, maybe cancelled."""

    async def submit_test(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except json.JSONDecodeError:
            raise rejected(Ret.BAD_PARAMETER, "request body must be a JSON object") from None
        submission = parse_submission(body)
        with self.store.lock:
            self._project(submission.project)
            app = self.data["apps"].get(submission.app_fid)
            if app is None or app["project"] != submission.project:
                raise rejected(Ret.NOT_FOUND, f"app {submission.app_fid} not found in project {submission.project}")
            if submission.frame_type == "appium" and str(submission.script_id) not in self.data["scripts"]:
                raise rejected(Ret.NOT_FOUND, f"script {submission.script_id} not found")
            if submission.resign and app["platform"] != "ios":
                raise rejected(Ret.BAD_PARAMETER, "resign is for iOS apps only")
            cloud = self._cloud(submission.cloud_id)
            if cloud["platform"] != app["platform"]:
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
                "devices": plan_devices(test_id, devices, submission, self.options),
            }
        return ok(test_info={"test_id": test_id})

    def _choose_devices(self, submission: Submission) -> list[dict[str, Any]]:
        in_cloud = [d for d in self.data["devices"] if d["cloud_id"] == submission.cloud_id]
        if not submission.devices:
            idle = [d for d in in_cloud if d["online"]]
            if not 1 <= submission.device_number <= len(idle):
                raise rejected(Ret.BAD_PARAMETER, f"device_number must be between 1 and {len(idle)} for cloud {submission.cloud_id}")
            return idle[: submission.device_number]
        device_ids = {d["device_id"] for d in self.data["devices"]}
        model_ids = {d["model_id"] for d in self.data["devices"]}
        kinds = {"deviceids" if i in device_ids else "modelids" if i in model_ids else "unknown" for i in submission.devices}
        if {"deviceids", "modelids"} <= kinds:
            raise rejected(Ret.BAD_PARAMETER, "mixing device IDs and model IDs in devices is not allowed")
        wrong = [i for i in submission.devices if i not in (device_ids if submission.choose_type == "deviceids" else model_ids)]
        if wrong:
            kind = "device" if submission.choose_type == "deviceids" else "model"
            raise rejected(Ret.BAD_PARAMETER, f"devices {wrong} are not {kind} IDs (device_choose_type is {submission.choose_type})")
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
        return chosen

    async def cancel_test(self, request: Request) -> Response:
        with self.store.lock:
            test = self._test(request)
            status, _ = status_at(test, self._elapsed(test))
            if status != StatusCode.TESTING:
                raise rejected(Ret.WRONG_STATE, f"test {test['test_id']} has already ended ({STATUS_TEXT[status]})")
            test["canceled_at"] = self.now()
        return ok()

    async def test_status(self, request: Request) -> Response:
        test = self._test(request)
        status, end = status_at(test, self._elapsed(test))
        return ok(
            test_status={
                "finished": status != StatusCode.TESTING,
                "start_time": timestamp(test["submitted_at"]),
                "end_time": "" if end is None else timestamp(test["submitted_at"] + end),
                "test_id": test["test_id"],
                "status_code": int(status),
                "status": STATUS_TEXT[status],
            }
        )

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
        base = f"{FILES_HOST}/reports/{test['test_id']}/{plan['device_id']}"
        result: dict[str, Any] = {
            "test_id": test["test_id"],
            "device_id": plan["device_id"],
            "start_time": timestamp(submitted),
            "device_start_time": timestamp(submitted + plan["start"]) if started else "",
            "wait_time": int(min(plan["start"], elapsed)),
            "end_time": "" if end is None else timestamp(submitted + end),
            "case_stat": plan["cases"] if code == plan["outcome"] else {**plan["cases"], "case_success": 0, "case_fail": 0},
            **{k: device[k] for k in ("model", "version", "manufacture", "ram", "cpu_ghz", "cpu_total")},
            "result": RESULT_TEXT[code],
            "result_code": int(code),
            "cost_info": self._cost_info(submitted, plan, elapsed, end),
        }
        if flag(request, "error"):
            result["errors"] = device_errors(code, submitted + (end or 0))
        if flag(request, "image"):
            shots = [] if end is None or code == DeviceResult.UNTESTED else range(1, 4)
            result["images"] = [
                {"image_name": f"screenshot_{n}.png", "image_time": timestamp(submitted + plan["start"] + n), "image_url": f"{base}/screenshot_{n}.png"}
                for n in shots
            ]
        if flag(request, "log"):
            done = end is not None
            result["mobile_log_url"] = f"{base}/mobile.log" if done else ""
            result["script_log_url"] = f"{base}/script.log" if done else ""
            result["test_video_url"] = f"{base}/video.mp4" if done else ""
        return result

    @staticmethod
    def _cost_info(submitted: float, plan: dict[str, Any], elapsed: float, end: float | None) -> list[dict[str, Any]]:
        spans = [("queue", 0.0, plan["start"]), ("test", plan["start"], end)]
        return [
            {"process_name": name, "cost": int(stop - begin), "start_time": timestamp(submitted + begin), "end_time": timestamp(submitted + stop)}
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
                "start_time": timestamp(submitted),
                "end_time": "" if end is None else timestamp(submitted + end),
                "frame_type_code": FRAME_TYPES[test["frame_type"]],
                "frame_type": test["frame_type"],
                "report_url": f"{FILES_HOST}/cloudtest/report/{test['test_id']}",
                "status_code": int(status),
                "status": STATUS_TEXT[status],
                "test_id": test["test_id"],
                "test_type": "automation",
                "test_type_code": 1,
                "app_info": {"app_type": app["platform"], **{k: app[k] for k in ("icon_url", "name", "package", "size", "version")}},
                "result_stat": result_stat(test, elapsed),
            }
        )
