"""Handlers of Test run results: run and project reports, and the screenshots package."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.errors import api_error, check
from labform.providers.bitbar.emulator.files import report_response
from labform.providers.bitbar.emulator.formats import iso
from labform.providers.bitbar.emulator.timing import FAILURE_MESSAGE, finished_cases, run_status
from labform.providers.bitbar.emulator.views import BitbarViews
from labform.providers.bitbar.emulator.vocabulary import PREVIEW_ROWS, REPORT_TYPES, REPORTS
from labform.providers.bitbar.emulator.wire import download, empty
from labform.providers.emulation import tiny_png, zip_bytes


class ResultHandlers(BitbarViews):
    """Reports in the requested type, and the screenshots zip once generated."""

    @staticmethod
    def report_options(request: Request) -> tuple[str, int | None]:
        query = request.query_params
        report_type = check.one_of("type", check.required(dict(query), "type"), REPORT_TYPES)
        preview = check.parse_bool("preview", query["preview"]) if "preview" in query else False
        return report_type, PREVIEW_ROWS if preview else None

    async def run_report(self, request: Request) -> Response:
        report = request.path_params["report"]
        if report not in REPORTS:
            raise api_error(404, f"No such report '{report}': expected one of {', '.join(REPORTS)}")
        report_type, row_limit = self.report_options(request)
        run = self.run(request)
        now = self.now()
        detail = report == "detail-failures"
        header, rows = ["device", "os version", "status", "passed", "test cases"], []
        if report != "summary":
            header = ["device", "test class", "test case", "message"] + (["os version", "finished"] if detail else [])
        for device_run in self.device_runs_of(run):
            device = self.data["devices"][str(device_run["deviceId"])]
            version = device["softwareVersion"]["releaseVersion"]
            cases = finished_cases(device_run, run["testPackage"], now)
            if report == "summary":
                passed = sum(not c["failed"] for c in cases)
                rows.append([device["displayName"], version, run_status(device_run, now), passed, len(cases)])
                continue
            for case in (c for c in cases if c["failed"]):
                row = [device["displayName"], case["className"], case["name"], FAILURE_MESSAGE]
                rows.append(row + ([version, iso(case["finishedAt"])] if detail else []))
        title = f"{report.replace('-', ' ').capitalize()} report: run {run['number']} '{run['displayName']}'"
        return report_response(report_type, f"run-{run['id']}-{report}", title, header, rows[:row_limit])

    async def project_report(self, request: Request) -> Response:
        report_type, row_limit = self.report_options(request)
        project = self.project(request)
        runs = [self.run_view(r) for r in self.data["runs"].values() if r["projectId"] == project["id"]]
        header = ["run", "name", "state", "success ratio", "execution ratio"]
        rows = [[r["number"], r["displayName"], r["state"], r["successRatio"], r["executionRatio"]] for r in runs]
        title = f"Summary report: project '{project['name']}'"
        return report_response(report_type, f"project-{project['id']}-summary", title, header, rows[:row_limit])

    async def request_screenshots_zip(self, request: Request) -> Response:
        with self.store.lock:
            self.run(request)["screenshotZipRequestedAt"] = self.now()
        return empty(201)

    async def get_screenshots_zip(self, request: Request) -> Response:
        run = self.run(request)
        state = self.screenshot_zip_state(run)
        if state != "READY":
            hint = "request it with POST first" if state == "BLANK" else "it is being generated"
            raise api_error(
                404, f"Screenshots package of run {run['id']} is not ready (screenshotZipState {state}): {hint}"
            )
        names = {dr["id"]: self.data["devices"][str(dr["deviceId"])]["displayName"] for dr in self.device_runs_of(run)}
        members = [(f"{names[s['deviceRunId']]}/{s['originalName']}", tiny_png(s["id"])) for s in self.screenshots(run)]
        return download(zip_bytes(members), "screenshots.zip", "application/zip")
