"""Handlers of Test run device runs: each device's progress, states, logs, JUnit, performance, screenshots."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.errors import api_error
from labform.providers.bitbar.emulator.files import junit_xml
from labform.providers.bitbar.emulator.formats import iso, millis
from labform.providers.bitbar.emulator.timing import (
    ended_at,
    finished_cases,
    stage_windows,
    state_objects,
    testing_window,
)
from labform.providers.bitbar.emulator.views import BitbarViews
from labform.providers.bitbar.emulator.wire import download, reply
from labform.providers.emulation import seeded_random, tiny_png


class DeviceRunHandlers(BitbarViews):
    """What each device of a run did, read against the clock."""

    async def list_device_runs(self, request: Request) -> Response:
        run = self.run(request)
        views = [self.device_run_view(dr, run) for dr in self.device_runs_of(run)]
        return self.listing(request, views, "deviceRun", "device.displayName")

    async def get_device_run(self, request: Request) -> Response:
        run = self.run(request)
        return reply(request, self.device_run_view(self.device_run(request), run), root="deviceRun")

    async def device_run_junit(self, request: Request) -> Response:
        run, device_run = self.run(request), self.device_run(request)
        device = self.data["devices"][str(device_run["deviceId"])]
        cases = finished_cases(device_run, run["testPackage"], self.now())
        payload = junit_xml(device["displayName"], cases, testing_window(device_run)[0])
        return download(payload, "junit.xml", "application/xml")

    async def device_run_logs(self, request: Request) -> Response:
        run, device_run = self.run(request), self.device_run(request)
        now = self.now()
        events = []
        for stage, start, end in stage_windows(device_run):
            events += [(start, f"I/Testdroid: {stage} started")] if start <= now else []
            events += [(end, f"I/Testdroid: {stage} finished")] if end <= now else []
        for case in finished_cases(device_run, run["testPackage"], now):
            verdict = "failed" if case["failed"] else "finished"
            events.append((case["finishedAt"], f"I/TestRunner: {verdict}: {case['name']}({case['className']})"))
        lines = [f"{iso(at)} {message}" for at, message in sorted(events, key=lambda event: event[0])]
        return Response("".join(line + "\n" for line in lines), media_type="text/plain")

    async def device_run_performance(self, request: Request) -> Response:
        run, device_run = self.run(request), self.device_run(request)
        start, end = testing_window(device_run)
        rng = seeded_random(self.options.seed, "bitbar", "performance", device_run["id"])
        # Ten samples across DEVICE_RUNNING (none for an excluded device run, which never tests),
        # drawn in order so each keeps its values as more appear.
        count = 10 if end > start else 0
        samples = [
            (start + (k + 0.5) * (end - start) / 10, rng.uniform(0.05, 0.6), rng.randint(12000, 64000))
            for k in range(count)
        ]
        items = [
            {"packageName": run["appPackage"], "cpuUsage": round(cpu, 3), "timestamp": millis(at), "memUsage": memory}
            for at, cpu, memory in samples
            if at <= min(self.now(), ended_at(device_run))
        ]
        return reply(request, items, root="performanceItems", item="performanceItem")

    async def list_states(self, request: Request) -> Response:
        states = state_objects(self.device_run(request), self.now())
        return self.listing(request, states, "state", "deviceRunStateType")

    async def get_state(self, request: Request) -> Response:
        state_id = request.path_params["stateId"]
        state = next((s for s in state_objects(self.device_run(request), self.now()) if s["id"] == state_id), None)
        if state is None:
            raise api_error(404, f"state with id {state_id} not found")
        return reply(request, state, root="state")

    def screenshots_asked(self, request: Request) -> list[dict]:
        """The run's screenshots, or one device run's: the doc's templates put them under the run,
        its examples under ``device-runs/{deviceRunId}``, so both paths are served."""
        shots = self.screenshots(self.run(request))
        if "deviceRunId" not in request.path_params:
            return shots
        device_run_id = self.device_run(request)["id"]
        return [s for s in shots if s["deviceRunId"] == device_run_id]

    async def list_screenshots(self, request: Request) -> Response:
        shots = [self.screenshot_view(s) for s in self.screenshots_asked(request)]
        return self.listing(request, shots, "screenshot", "originalName")

    async def get_screenshot(self, request: Request) -> Response:
        screenshot_id = request.path_params["screenshotId"]
        shot = next((s for s in self.screenshots_asked(request) if s["id"] == screenshot_id), None)
        if shot is None:
            raise api_error(404, f"screenshot with id {screenshot_id} not found")
        if "image/" in request.headers.get("accept", ""):
            return Response(tiny_png(screenshot_id), media_type="image/png")
        return reply(request, self.screenshot_view(shot), root="screenshot")
