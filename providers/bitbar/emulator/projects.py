"""Handlers of the doc's sections Project basics, Project config, config parameters and Project sharing."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.bitbar.emulator.config_fields import CONFIG_FIELDS
from labform.providers.bitbar.emulator.errors import api_error, check
from labform.providers.bitbar.emulator.seed import FREE_DEVICES_GROUP_ID, ID_STARTS
from labform.providers.bitbar.emulator.views import BitbarViews
from labform.providers.bitbar.emulator.vocabulary import DEFAULT_MODE, FILE_KINDS, PROJECT_TYPES
from labform.providers.bitbar.emulator.wire import empty, reply
from labform.providers.emulation import tiny_png


class ProjectHandlers(BitbarViews):
    """Projects, their config and parameters, and who they are shared with."""

    # ---- Project basics

    async def create_project(self, request: Request) -> Response:
        values = await self.params(request)
        name = check.required(values, "name")
        project_type = check.one_of("type", check.required(values, "type"), PROJECT_TYPES)
        with self.store.lock:
            if self.variants.unique_project_names and any(p["name"] == name for p in self.data["projects"].values()):
                raise api_error(409, f"Project with name '{name}' already exists")
            project_id = self.store.next_id("project", ID_STARTS["project"])
            project = {
                "id": project_id,
                "name": name,
                "description": "",
                "type": project_type,
                "common": False,
                "sharedById": None,
                "files": dict.fromkeys(FILE_KINDS),
                "runCount": 0,
            }
            self.data["projects"][str(project_id)] = project
            self.data["configs"][str(project_id)] = self.default_config(project)
        return reply(request, self.project_view(project), 201, root="project")

    def default_config(self, project: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.store.next_id("config", ID_STARTS["config"]),
            "projectId": project["id"],
            "scheduler": "PARALLEL",
            "mode": DEFAULT_MODE[project["type"]],
            "autoScreenshots": False,
            "screenshotDir": "",
            "limitationType": None,
            "limitationValue": "",
            "withAnnotation": None,
            "withoutAnnotation": None,
            "applicationUsername": "",
            "applicationPassword": "",
            "usedDeviceGroupId": FREE_DEVICES_GROUP_ID,
            "deviceLanguageCode": "en_US",
            "hookURL": "",
            "uiAutomatorTestClasses": None,
            "launchApp": False,
            "instrumentationRunner": "",
            "checkApp": False,
        }

    async def list_projects(self, request: Request) -> Response:
        projects = [self.project_view(p) for p in self.data["projects"].values()]
        return self.listing(request, projects, "project", "name")

    async def get_project(self, request: Request) -> Response:
        return reply(request, self.project_view(self.project(request)), root="project")

    async def update_project(self, request: Request) -> Response:
        values = await self.params(request)
        with self.store.lock:
            project = self.project(request)
            changes: dict[str, Any] = {}
            if "name" in values:
                changes["name"] = check.required(values, "name")
                taken = any(p["name"] == changes["name"] and p is not project for p in self.data["projects"].values())
                if taken and self.variants.unique_project_names:
                    raise api_error(400, f"Project with name '{changes['name']}' already exists")
            if "description" in values:
                changes["description"] = values["description"]
            if "common" in values:
                changes["common"] = check.parse_bool("common", values["common"])
            project.update(changes)
        return reply(request, self.project_view(project), 202, root="project")

    async def delete_project(self, request: Request) -> Response:
        with self.store.lock:
            project_id = self.project(request)["id"]
            for run in [r for r in self.data["runs"].values() if r["projectId"] == project_id]:
                self.forget_run(run)
            for collection in ("parameters", "sharings"):
                self.forget(collection, lambda record: record["projectId"] == project_id)
            self.forget("notifications", lambda record: record["project"] == project_id)
            del self.data["projects"][str(project_id)]
            del self.data["configs"][str(project_id)]
            self.collect_files()
        return empty(204)

    async def project_icon(self, request: Request) -> Response:
        project = self.project(request)
        if project["files"]["application"] is None:
            raise api_error(404, f"Project {project['id']} has no application to take an icon from")
        return Response(tiny_png(project["files"]["application"]), media_type="image/png")

    # ---- Project config

    async def get_config(self, request: Request) -> Response:
        return reply(request, self.config_view(self.project(request)), root="projectConfig")

    async def update_config(self, request: Request) -> Response:
        values = await self.params(request)
        with self.store.lock:
            project = self.project(request)
            config = self.data["configs"][str(project["id"])]
            changes = {name: parse(name, values[name]) for name, parse in CONFIG_FIELDS.items() if name in values}
            self.check_config(project, {**config, **changes}, changes)
            config.update(changes)
        return reply(request, self.config_view(project), 201, root="projectConfig")

    def check_config(self, project: dict[str, Any], config: dict[str, Any], changes: dict[str, Any]) -> None:
        ios_project = project["type"] == "IOS"
        if (config["mode"] == "IOS") != ios_project:
            raise api_error(400, f"Mode {config['mode']} cannot be used in a {project['type']} project")
        if str(config["usedDeviceGroupId"]) not in self.data["deviceGroups"]:
            raise api_error(404, f"Device group with id {config['usedDeviceGroupId']} not found")
        if changes.get("mode") == "UIAUTOMATOR" and not config["uiAutomatorTestClasses"]:
            raise api_error(400, "uiAutomatorTestClasses is required in UIAUTOMATOR mode")

    # ---- user defined config parameters

    async def add_parameter(self, request: Request) -> Response:
        values = await self.params(request)
        key = check.required(values, "key")
        check.present(values, "value")
        with self.store.lock:
            project_id = self.project(request)["id"]
            if any(p["projectId"] == project_id and p["key"] == key for p in self.data["parameters"].values()):
                raise api_error(409, f"Parameter with key '{key}' already exists in project {project_id}")
            parameter_id = self.store.next_id("parameter", ID_STARTS["parameter"])
            parameter = {"id": parameter_id, "projectId": project_id, "key": key, "value": values["value"]}
            self.data["parameters"][str(parameter_id)] = parameter
        return reply(request, self.parameter_view(parameter), 201, root="projectConfigParameter")

    async def list_parameters(self, request: Request) -> Response:
        parameters = self.parameters_of(self.project(request)["id"])
        return self.listing(request, parameters, "projectConfigParameter", "key")

    async def get_parameter(self, request: Request) -> Response:
        parameter = self.lookup("parameters", request, "parameterId", ("projectId", self.project(request)["id"]))
        return reply(request, self.parameter_view(parameter), root="projectConfigParameter")

    async def delete_parameter(self, request: Request) -> Response:
        with self.store.lock:
            parameter = self.lookup("parameters", request, "parameterId", ("projectId", self.project(request)["id"]))
            del self.data["parameters"][str(parameter["id"])]
        return empty(200)

    # ---- Project sharing

    async def create_sharing(self, request: Request) -> Response:
        # The doc lists no 400 here: any e-mail is taken (labform checks its shape at plan time).
        values = await self.params(request)
        email = check.required(values, "email")
        with self.store.lock:
            project_id = self.project(request)["id"]
            if any(s["projectId"] == project_id and s["userEmail"] == email for s in self.data["sharings"].values()):
                raise api_error(409, f"Project {project_id} is already shared with {email}")
            users = self.data["users"]
            if email not in users:
                users[email] = self.store.next_id("user", ID_STARTS["user"])
            share_id = self.store.next_id("sharing", ID_STARTS["sharing"])
            share = {"id": share_id, "projectId": project_id, "userId": users[email], "userEmail": email}
            self.data["sharings"][str(share_id)] = share
        return reply(request, self.share_view(share), 201, root="share")

    async def list_sharings(self, request: Request) -> Response:
        project_id = self.project(request)["id"]
        shares = [self.share_view(s) for s in self.data["sharings"].values() if s["projectId"] == project_id]
        return self.listing(request, shares, "share", "userEmail")

    async def get_sharing(self, request: Request) -> Response:
        share = self.lookup("sharings", request, "sharingId", ("projectId", self.project(request)["id"]))
        return reply(request, self.share_view(share), root="share")

    async def delete_sharing(self, request: Request) -> Response:
        with self.store.lock:
            share = self.lookup("sharings", request, "sharingId", ("projectId", self.project(request)["id"]))
            del self.data["sharings"][str(share["id"])]
        return empty(204)
