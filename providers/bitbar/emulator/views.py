"""The doc's objects, made from stored records when read (runs progress on the clock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labform.providers.bitbar.emulator.core import BitbarCore
from labform.providers.bitbar.emulator.formats import millis, readable_size
from labform.providers.bitbar.emulator.timing import (
    ended_at,
    finished_cases,
    interrupting_state,
    run_status,
    state_objects,
    testing_window,
)
from labform.providers.bitbar.emulator.vocabulary import FINAL_STATUSES


class BitbarViews(BitbarCore):
    """The doc's objects (``project``, ``testRun``, ``deviceRun`` ...) made from stored records."""

    @staticmethod
    def project_view(project: dict[str, Any]) -> dict[str, Any]:
        return {k: project[k] for k in ("id", "name", "description", "type", "common", "sharedById")}

    def config_view(
        self, project: dict[str, Any], files: dict[str, int | None] | None = None, group_id: int | None = None
    ) -> dict[str, Any]:
        """The project's config; a run's snapshot of it names the run's own ``files`` and device group."""
        config = dict(self.data["configs"][str(project["id"])])
        if group_id is not None:
            config["usedDeviceGroupId"] = group_id
        group = self.data["deviceGroups"][str(config["usedDeviceGroupId"])]
        config["runAvailable"] = self.run_available(project["files"] if files is None else files, config)
        config["creditsPrice"] = self.group_view(group)["creditsPrice"]
        return config

    @staticmethod
    def parameter_view(parameter: dict[str, Any]) -> dict[str, Any]:
        # ``id``: the example's (3942); ``projectId``: the table's (3933).
        return {k: parameter[k] for k in ("id", "projectId", "key", "value")}

    def parameters_of(self, project_id: int) -> list[dict[str, Any]]:
        return [self.parameter_view(p) for p in self.data["parameters"].values() if p["projectId"] == project_id]

    def user_view(self) -> dict[str, Any]:
        """What ``/api/me`` answers (the doc shows no body): who the key or token belongs to."""
        user = self.data["user"]
        first, _, last = user["displayName"].partition(" ")
        return {"id": user["id"], "email": user["email"], "firstName": first, "lastName": last}

    def file_view(self, record: dict[str, Any]) -> dict[str, Any]:
        view = {
            "id": record["id"],
            "originalName": record["originalName"],
            "readableSize": readable_size(record["size"]),
            "uploadTime": millis(record["uploadedAt"]),
        }
        if record["kind"] == "test":
            ios = record["platform"] == "IOS"
            # The keys of the doc's (Android) fileTest example; an iOS one's the table's iOS-only keys too (3740-3741).
            view |= {
                "mainActivity": None,
                "minSdk": None if ios else 16,
                "packageName": None if ios else record["package"],
            }
            if ios:
                view |= {"bundleName": Path(record["originalName"]).stem, "bundleIdentifier": record["package"]}
        return view

    @staticmethod
    def share_view(share: dict[str, Any]) -> dict[str, Any]:
        return {k: share[k] for k in ("id", "userId", "userEmail")}

    @staticmethod
    def tag_view(tag: dict[str, Any]) -> dict[str, Any]:
        return {"id": tag["id"], "name": tag["name"]}

    @staticmethod
    def notification_view(notification: dict[str, Any]) -> dict[str, Any]:
        return {k: notification[k] for k in ("id", "email", "project", "type")}

    def device_view(self, device: dict[str, Any]) -> dict[str, Any]:
        # ``locked``: no device is reserved here; the testdroid client's device listings read it.
        return device | {"locked": False} if self.variants.extra_keys else device

    def group_view(self, group: dict[str, Any]) -> dict[str, Any]:
        price = sum(self.data["devices"][str(i)]["creditsPrice"] for i in group["deviceIds"])
        return {
            **{k: group[k] for k in ("id", "name", "displayName")},
            "deviceCount": len(group["deviceIds"]),
            "creditsPrice": price,
            **{k: group[k] for k in ("userId", "osType")},
        }

    def run_view(self, run: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        device_runs = self.device_runs_of(run)
        statuses = [run_status(dr, now) for dr in device_runs]
        finished = sum(s in FINAL_STATUSES for s in statuses)
        succeeded = sum(s in ("SUCCEEDED", "WARNING") for s in statuses)
        if statuses and all(s == "WAITING" for s in statuses):
            state = "WAITING"
        else:  # a run on no devices has nothing to wait for
            state = "FINISHED" if finished == len(statuses) else "RUNNING"
        waiting = state == "WAITING"

        def share(count: int) -> float | None:
            return None if waiting else round(count / len(statuses), 4) if statuses else 0.0

        view = {
            "id": run["id"],
            "number": run["number"],
            "createTime": millis(run["createdAt"]),
            "displayName": run["displayName"],
            "executionRatio": share(finished),
            "successRatio": share(succeeded),
            "startedByDisplayName": self.data["user"]["displayName"],
            "state": state,
            "screenshotZipState": self.screenshot_zip_state(run),
        }
        if self.variants.extra_keys:  # later Bitbar APIs have these; the v2 doc does not
            windows = [(dr["startAt"], ended_at(dr)) for dr in device_runs]
            view |= {
                "projectId": run["projectId"],
                "startTime": None if waiting or not windows else millis(min(start for start, _ in windows)),
                "endTime": millis(max(end for _, end in windows)) if state == "FINISHED" and windows else None,
                "deviceRunCount": len(device_runs),
            }
        return view

    def device_run_view(self, device_run: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
        now = min(self.now(), ended_at(device_run))  # an aborted device run stays as the abort left it
        device = self.data["devices"][str(device_run["deviceId"])]
        cases = finished_cases(device_run, run["testPackage"], now)
        started = now >= device_run["startAt"]
        testing_start, _ = testing_window(device_run)
        states = state_objects(device_run, now)
        return {
            "id": device_run["id"],
            "runTime": millis(testing_start) if now >= testing_start else None,
            "device": self.device_view(device),
            "deviceName": device_run["deviceName"],
            "deviceSerialId": device_run["deviceSerialId"],
            "testCaseSuccessNo": sum(not c["failed"] for c in cases),
            "testCaseAllNo": len(cases),
            "testCaseCount": device_run["caseCount"] if started else 0,
            "softwareVersion": device["softwareVersion"],
            "createTime": millis(device_run["createdAt"]),
            "startTime": millis(device_run["startAt"]) if started else None,
            "currentState": states[-1] if states else None,
            "interruptedByState": interrupting_state(device_run, states),
            "runStatus": run_status(device_run, now),
        }

    def screenshots(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        """One screenshot per finished test case; ids derived from device run and case."""
        now = self.now()
        return [
            {
                "id": device_run["id"] * 100 + case["index"],  # at most 12 cases per device run
                "originalName": f"{case['className']}.{case['name']}_scr_1.png",
                "fail": case["failed"],
                "type": "LANDSCAPE" if case["index"] % 3 == 2 else "PORTRAIT",
                "deviceRunId": device_run["id"],
            }
            for device_run in self.device_runs_of(run)
            for case in finished_cases(device_run, run["testPackage"], now)
        ]

    @staticmethod
    def screenshot_view(shot: dict[str, Any]) -> dict[str, Any]:
        return {k: shot[k] for k in ("id", "originalName", "fail", "type")}

    def screenshot_zip_state(self, run: dict[str, Any]) -> str:
        requested = run["screenshotZipRequestedAt"]
        if requested is None:
            return "BLANK"
        return "READY" if self.now() >= requested + 0.1 * self.options.job_duration else "PROGRESS"
