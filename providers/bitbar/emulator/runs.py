"""Handlers of Test run basics, Test run config and Test run tagging; a started run's plan is fixed here."""

from __future__ import annotations

import random
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.errors import api_error, check
from labform.providers.bitbar.emulator.formats import slug
from labform.providers.bitbar.emulator.seed import ID_STARTS
from labform.providers.bitbar.emulator.timing import device_windows, selected, test_case
from labform.providers.bitbar.emulator.views import BitbarViews
from labform.providers.bitbar.emulator.wire import empty, reply
from labform.providers.emulation import failing_positions, flaky_attempt_fails, mark_flaky, seeded_random


class RunHandlers(BitbarViews):
    """Starting, renaming, listing and deleting runs; their config snapshot and tags."""

    # ---- Test run basics

    async def start_run(self, request: Request) -> Response:
        # The doc lists no 400 here: a run always starts; one missing its inputs has its devices EXCLUDED.
        values = await self.params(request)
        name = (
            check.required(values, "name") if self.variants.required == "as_tables" else values.get("name", "").strip()
        )
        with self.store.lock:
            project = self.project(request)
            files, parameters = dict(project["files"]), self.parameters_of(project["id"])
            run = self.open_run(project, name, self.config_view(project), files, parameters)
        return reply(request, self.run_view(run), 201, root="testRun")

    def open_run(
        self,
        project: dict[str, Any],
        name: str,
        config: dict[str, Any],
        files: dict[str, int | None],
        parameters: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """A new run of ``project`` on ``config``'s device group, every device run planned; store locked."""
        project["runCount"] += 1
        run_id = self.store.next_id("run", ID_STARTS["run"])
        run = {
            "id": run_id,
            "projectId": project["id"],
            "number": project["runCount"],
            "displayName": name or f"Test run {project['runCount']}",
            "createdAt": self.now(),
            "config": config,
            "parameters": parameters,
            "files": files,
            "appPackage": self.package_of(files, "application"),
            "testPackage": self.package_of(files, "test") or self.package_of(files, "application") + ".test",
            "deviceRunIds": [],
            "screenshotZipRequestedAt": None,
        }
        self.data["runs"][str(run_id)] = run
        device_ids = sorted(self.data["deviceGroups"][str(config["usedDeviceGroupId"])]["deviceIds"])
        rng = seeded_random(self.options.seed, "bitbar", run_id)
        for attempt in self.attempts(run, device_ids, run["createdAt"], rng):
            device_run_id = self.store.next_id("deviceRun", ID_STARTS["deviceRun"])
            self.data["deviceRuns"][str(device_run_id)] = {"id": device_run_id, "runId": run_id, **attempt}
            run["deviceRunIds"].append(device_run_id)
        return run

    def package_of(self, files: dict[str, int | None], kind: str) -> str:
        file_id = files[kind]
        return "" if file_id is None else self.data["files"][str(file_id)]["package"]

    def attempts(
        self, run: dict[str, Any], device_ids: list[int], t0: float, rng: random.Random
    ) -> list[dict[str, Any]]:
        """One attempt per device from ``t0``: its window and results fixed now, so reading them later
        is pure; every one EXCLUDED when the run lacks what its mode needs."""
        missing = self.missing_inputs(run["files"], run["config"])
        excluded = f"the project lacks {' and '.join(missing)}" if missing else None
        cases = [] if excluded else self.selected_cases(run)
        positions = [(d, c) for d in range(len(device_ids)) for c in cases]
        failing = {positions[p] for p in failing_positions(len(positions), self.options.failure_share, rng)}
        failing |= self.flaky_failures(run["testPackage"], device_ids, cases)
        windows = device_windows(t0, len(device_ids), self.options.job_duration, run["config"]["scheduler"])
        if excluded:
            windows = [(t0, t0)] * len(device_ids)
        planned = []
        for index, (device_id, (start, end)) in enumerate(zip(device_ids, windows, strict=False)):
            failed_cases = sorted(c for d, c in failing if d == index)
            planned.append(
                {
                    "deviceId": device_id,
                    "deviceName": f"{slug(self.data['devices'][str(device_id)]['displayName'], '-')}-{rng.randint(1, 9):02d}",
                    "deviceSerialId": f"{rng.getrandbits(48):012X}",
                    "createdAt": t0,
                    "startAt": start,
                    "endAt": end,
                    "cases": cases,
                    "caseCount": len(cases),
                    "failedCases": failed_cases,
                    "warning": not failed_cases and rng.random() < self.options.failure_share / 2,
                    "excluded": excluded,
                }
            )
        return planned

    def selected_cases(self, run: dict[str, Any]) -> list[int]:
        """The test package's cases (4-12, fixed by the seed and its name) the run config selects."""
        size = seeded_random(self.options.seed, "bitbar", "suite", run["testPackage"]).randint(4, 12)
        return [i for i in range(size) if selected(run["config"], test_case(run["testPackage"], i)[0])]

    def flaky_failures(self, package: str, device_ids: list[int], cases: list[int]) -> set[tuple[int, int]]:
        """(device position, case) of flaky tests whose run on that device fails this time."""
        ids = {i: ".".join(test_case(package, i)) for i in cases}
        marks = self.data.setdefault("flaky", {})
        mark_flaky(marks, ids.values(), self.options.flaky_rate, self.options.seed)
        runs = self.data.setdefault("testRuns", {})
        failing = set()
        for position, device_id in enumerate(device_ids):
            for case, test_id in ids.items():
                if not marks[test_id]:
                    continue
                key = f"{test_id}|{device_id}"
                runs[key] = runs.get(key, 0) + 1
                if flaky_attempt_fails(self.options.seed, key, runs[key]):
                    failing.add((position, case))
        return failing

    async def get_run(self, request: Request) -> Response:
        return reply(request, self.run_view(self.run(request)), root="testRun")

    async def update_run(self, request: Request) -> Response:
        values = await self.params(request)
        name = check.required(values, "name")
        with self.store.lock:
            run = self.run(request)
            run["displayName"] = name
        return reply(request, self.run_view(run), 202, root="testRun")

    async def delete_run(self, request: Request) -> Response:
        with self.store.lock:
            self.forget_run(self.run(request))
            self.collect_files()
        return empty(204)

    async def list_my_runs(self, request: Request) -> Response:
        runs = [self.run_view(r) for r in self.data["runs"].values()]
        return self.listing(request, runs, "testRun", "displayName")

    async def list_project_runs(self, request: Request) -> Response:
        project_id = self.project(request)["id"]
        runs = [self.run_view(r) for r in self.data["runs"].values() if r["projectId"] == project_id]
        return self.listing(request, runs, "testRun", "displayName")

    # ---- Test run config

    async def get_run_config(self, request: Request) -> Response:
        return reply(request, self.run(request)["config"], root="projectConfig")

    async def list_run_parameters(self, request: Request) -> Response:
        return self.listing(request, self.run(request)["parameters"], "projectConfigParameter", "key")

    async def get_run_parameter(self, request: Request) -> Response:
        parameter_id = request.path_params["parameterId"]
        parameter = next((p for p in self.run(request)["parameters"] if p["id"] == parameter_id), None)
        if parameter is None:
            raise api_error(404, f"parameter with id {parameter_id} not found")
        return reply(request, parameter, root="projectConfigParameter")

    # ---- Test run tagging

    async def create_tag(self, request: Request) -> Response:
        values = await self.params(request)
        name = check.required(values, "name")
        with self.store.lock:
            run_id = self.run(request)["id"]
            if any(t["runId"] == run_id and t["name"] == name for t in self.data["tags"].values()):
                raise api_error(409, f"Run {run_id} already has the tag '{name}'")
            tag_id = self.store.next_id("tag", ID_STARTS["tag"])
            tag = {"id": tag_id, "runId": run_id, "name": name}
            self.data["tags"][str(tag_id)] = tag
        return reply(request, self.tag_view(tag), 201, root="tag")

    async def list_tags(self, request: Request) -> Response:
        run_id = self.run(request)["id"]
        tags = [self.tag_view(t) for t in self.data["tags"].values() if t["runId"] == run_id]
        return self.listing(request, tags, "tag", "name")

    async def get_tag(self, request: Request) -> Response:
        tag = self.lookup("tags", request, "tagId", ("runId", self.run(request)["id"]))
        return reply(request, self.tag_view(tag), root="tag")

    async def delete_tag(self, request: Request) -> Response:
        with self.store.lock:
            tag = self.lookup("tags", request, "tagId", ("runId", self.run(request)["id"]))
            del self.data["tags"][str(tag["id"])]
        return empty(204)
