"""Projects: GET/POST /projects, GET/PUT/DELETE /projects/{project_id}.

A delete is refused while the project holds VMs not being deleted or running
campaigns (the doc's rule); how it is refused is a doc variant.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.kyaraben.emulator.base import Endpoint, KyarabenBase
from labform.providers.kyaraben.emulator.replies import accepted, answer, no_content
from labform.providers.kyaraben.emulator.timeline import Record
from labform.providers.kyaraben.emulator.world import error, new_id

P = "/projects/{project_id}"


class ProjectRoutes(KyarabenBase):
    def project_endpoints(self) -> list[Endpoint]:
        return [
            ("GET", "/projects", self.list_projects),
            ("POST", "/projects", self.create_project),
            ("GET", P, self.read_project),
            ("PUT", P, self.rename_project),
            ("DELETE", P, self.delete_project),
        ]

    def _project_status(self, project: Record) -> str:
        return self.timeline.project_status(project, self.now())

    def _status_ts(self, project: Record) -> float:
        """When the project entered its present status."""
        d, status = self.timeline.d, self._project_status(project)
        if status in ("DELETING", "DELETED"):
            return project["deleted_at"] + (0.1 * d if status == "DELETED" else 0.0)
        if status == "ERROR":
            return project["refused_at"]
        return project["created_at"] + {"QUEUED": 0.0, "CREATING": 0.05 * d, "READY": 0.2 * d}[status]

    async def list_projects(self, request: Request) -> Response:
        user = self.user(request)
        with self.store.lock:
            mine = sorted(
                (p for p in self.data["projects"].values() if p["owner"] == user), key=lambda p: p["created_at"]
            )
            listed = [
                {"project_id": p["project_id"], "project_name": p["project_name"], "status": self._project_status(p)}
                for p in mine
                if self.world.visible(self._project_status(p))
            ]
        return answer({"projects": listed})

    async def create_project(self, request: Request) -> Response:
        body = await self.body(request)
        name = self.check.text("project_name", body.get("project_name", ""))
        with self.store.lock:
            project_id = new_id()
            self.data["projects"][project_id] = {
                "project_id": project_id,
                "project_name": name,
                "owner": self.user(request),
                "created_at": self.now(),
                "deleted_at": None,
                "refused_reason": "",
                "refused_at": None,
            }
        return answer({"project_id": project_id}, 201)

    async def read_project(self, request: Request) -> Response:
        user = self.user(request)
        with self.store.lock:
            world = self.world
            project = world.project(user, request.path_params["project_id"])
            world.settle(user)
            vms = [
                vm
                for vm in self.data["avms"].values()
                if vm["project_id"] == project["project_id"] and not vm["campaign_id"]
            ]
            counted = [vm for vm in vms if self.timeline.vm_status(vm, self.now()) != "DELETED"]
            body = {
                "count_avms": len(counted),
                "project_id": project["project_id"],
                "project_name": project["project_name"],
                "status": self._project_status(project),
                "status_reason": project["refused_reason"],
                "status_ts": self.timestamp(self._status_ts(project)),
                "sum_avms_uptime": round(sum(world.uptime(vm) for vm in vms), 6),
            }
        return answer({"project": body})

    async def rename_project(self, request: Request) -> Response:
        body = await self.body(request)
        keys = {"either": ("project_name", "avm_name"), "project_name": ("project_name",), "avm_name": ("avm_name",)}
        readable = keys[self.variants.project_rename_key]
        key = next((k for k in readable if k in body), readable[0])
        name = self.check.text(key, self.check.required(body, key))
        with self.store.lock:
            self.world.live_project(self.user(request), request.path_params["project_id"])["project_name"] = name
        return no_content()

    async def delete_project(self, request: Request) -> Response:
        user = self.user(request)
        with self.store.lock:
            project = self.world.project(user, request.path_params["project_id"])
            if project["deleted_at"] is not None:
                return accepted()
            blocking, refusal = self._blocking(project), self.variants.project_delete_refusal
            if not blocking:
                project.update(deleted_at=self.now(), refused_reason="")
            elif refusal == "async":
                project.update(refused_reason=blocking, refused_at=self.now())
            else:
                raise error(refusal, blocking)
        return accepted()

    def _blocking(self, project: Record) -> str:
        """Why the doc forbids deleting ``project`` now, or "" when it may go."""
        world, now = self.world, self.now()
        world.settle(project["owner"])
        vms = [
            vm["avm_id"]
            for vm in self.data["avms"].values()
            if vm["project_id"] == project["project_id"]
            and self.timeline.vm_status(vm, now) not in ("DELETING", "DELETED")
        ]
        kinds = (
            ("QUEUED", "RUNNING")
            if self.variants.blocking_campaigns == "running"
            else ("QUEUED", "RUNNING", "READY", "ERROR")
        )
        campaigns = [
            c["campaign_id"]
            for c in self.data["campaigns"].values()
            if c["project_id"] == project["project_id"] and world.campaign_status(c) in kinds
        ]
        if not vms and not campaigns:
            return ""
        parts = [f"vms {', '.join(vms)}" if vms else "", f"campaigns {', '.join(campaigns)}" if campaigns else ""]
        return "project contains running " + " and ".join(p for p in parts if p)
