"""Android VMs and the commands run on them.

VMs: list, create, read, rename (the example's PUT /android/{avm_id} and the
heading's PUT /android, as the variant reads the doc), delete. Over quota, or
with an image the cloud does not have, a VM is in ERROR with the reason and
its creation is retried (the doc's rule for OpenStack errors), so it becomes
READY once a slot frees. Commands (apk install, monkey, instrumented tests)
wait for their VM to be READY, run, and report returncode/stdout/stderr.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.emulation import failing_positions, seeded_random
from labform.providers.kyaraben.emulator import outputs
from labform.providers.kyaraben.emulator.base import Endpoint, KyarabenBase
from labform.providers.kyaraben.emulator.hwconfig import hwconfig_shown, malformed, read_hwconfig, schema_check
from labform.providers.kyaraben.emulator.replies import accepted, answer, no_content
from labform.providers.kyaraben.emulator.timeline import Record
from labform.providers.kyaraben.emulator.world import error, new_id

A = "/android/{avm_id}"


class AndroidRoutes(KyarabenBase):
    def android_endpoints(self) -> list[Endpoint]:
        renames = []
        if self.variants.avm_rename_paths in ("both", "heading"):
            renames.append(("PUT", "/android", self.rename_avm))
        if self.variants.avm_rename_paths in ("both", "path"):
            renames.append(("PUT", A, self.rename_avm))
        return [
            ("GET", "/android", self.list_avms),
            ("POST", "/android", self.create_avm),
            *renames,
            ("GET", A, self.read_avm),
            ("DELETE", A, self.delete_avm),
            ("GET", A + "/apk", self.installed_packages),
            ("POST", A + "/apk/{apk_id}", self.install_apk),
            ("GET", A + "/command/{command_id}", self.read_command),
            ("GET", A + "/properties", self.read_properties),
            ("GET", A + "/testrun", self.installed_test_packages),
            ("POST", A + "/testrun", self.run_tests),
            ("GET", A + "/totp", self.one_time_password),
            ("POST", A + "/monkey", self.run_monkey),
        ]

    # --- VMs ------------------------------------------------------------------------
    def _vm_status(self, vm: Record) -> str:
        return self.timeline.vm_status(vm, self.now())

    def _vm_status_ts(self, vm: Record) -> float:
        status, timeline = self._vm_status(vm), self.timeline
        return {
            "DELETING": vm["deleted_at"],
            "DELETED": timeline.gone_at(vm),
            "ERROR": timeline.asks_slot_at(vm),
            "QUEUED": vm["created_at"],
            "CREATING": vm["slot_at"],
            "READY": timeline.ready_at(vm),
        }[status]

    def _vm_listed(self, vm: Record) -> dict[str, Any]:
        return {
            "avm_id": vm["avm_id"],
            "avm_name": vm["avm_name"],
            "avm_owner": vm["avm_owner"],
            "campaign_id": vm["campaign_id"],
            "image": vm["image"],
            "project_id": vm["project_id"],
            "status": self._vm_status(vm),
            "ts_created": self.timestamp(vm["created_at"]),
            "uptime": round(self.world.uptime(vm), 6),
        }

    async def list_avms(self, request: Request) -> Response:
        user = self.user(request)
        with self.store.lock:
            world = self.world
            world.settle(user)
            mine = sorted(
                (vm for vm in self.data["avms"].values() if vm["avm_owner"] == user), key=lambda vm: vm["created_at"]
            )
            return answer({"avms": [self._vm_listed(vm) for vm in mine if world.visible(self._vm_status(vm))]})

    async def create_avm(self, request: Request) -> Response:
        body = await self.body(request)
        project_id = schema_check.text("project_id", schema_check.required(body, "project_id"))
        image = schema_check.text("image", schema_check.required(body, "image"))
        name = schema_check.text("avm_name", body["avm_name"]) if body.get("avm_name") else None
        hwconfig = read_hwconfig(body.get("hwconfig"), self.variants)
        with self.store.lock:
            project = self.world.live_project(self.user(request), project_id)
            avm_id = new_id()
            self.data["avms"][avm_id] = {
                "avm_id": avm_id,
                "avm_name": name or avm_id[:8],
                "avm_owner": project["owner"],
                "campaign_id": "",
                "image": image,
                "project_id": project_id,
                "hwconfig": hwconfig,
                "created_at": self.now(),
                "slot_at": None,
                "deleted_at": None,
                "status_reason": "",
            }
        return answer({"avm_id": avm_id}, 201)

    def _vm(self, request: Request, avm_id: str | None = None) -> Record:
        return self.world.avm(self.user(request), avm_id or request.path_params["avm_id"])

    async def read_avm(self, request: Request) -> Response:
        with self.store.lock:
            vm = self._vm(request)
            status = self._vm_status(vm)
            body = {
                **self._vm_listed(vm),
                "hwconfig": hwconfig_shown(vm["hwconfig"], self.variants),
                "status_reason": vm["status_reason"] if status == "ERROR" else "",
                "status_ts": self.timestamp(self._vm_status_ts(vm)),
            }
        return answer({"avm": body})

    async def rename_avm(self, request: Request) -> Response:
        body = await self.body(request)
        avm_id = request.path_params.get("avm_id") or schema_check.text("avm_id", schema_check.required(body, "avm_id"))
        name = schema_check.text("avm_name", schema_check.required(body, "avm_name"))
        with self.store.lock:
            self._vm(request, avm_id)["avm_name"] = name
        return no_content()

    async def delete_avm(self, request: Request) -> Response:
        with self.store.lock:
            vm = self._vm(request)
            if vm["deleted_at"] is None:
                vm["deleted_at"] = self.now()
        return accepted()

    # --- what is installed ------------------------------------------------------------
    def _installed(self, vm: Record) -> list[Record]:
        """Apks whose install command on ``vm`` has succeeded, in install order."""
        installed = []
        for command in sorted(self.data["commands"].values(), key=lambda c: c["created_at"]):
            if command["avm_id"] != vm["avm_id"] or command["kind"] != "install":
                continue
            results = self._results(command, vm)
            apk = self.data["apks"].get(command["apk_id"])
            if results[0]["status"] == "READY" and results[0]["returncode"] == "0" and apk not in installed:
                installed.append(apk)
        return installed

    async def installed_packages(self, request: Request) -> Response:
        with self.store.lock:
            vm = self._vm(request)
            return answer({"packages": list(dict.fromkeys(apk["package"] for apk in self._installed(vm)))})

    async def installed_test_packages(self, request: Request) -> Response:
        with self.store.lock:
            vm = self._vm(request)
            return answer(
                {
                    "packages": {
                        apk["instrumentation"]: apk["package"] for apk in self._installed(vm) if apk["instrumentation"]
                    }
                }
            )

    # --- commands -------------------------------------------------------------------
    def _command(self, vm: Record, kind: str, **what: Any) -> str:
        command_id = new_id()
        self.data["commands"][command_id] = {
            "command_id": command_id,
            "avm_id": vm["avm_id"],
            "kind": kind,
            "created_at": self.now(),
            **what,
        }
        return command_id

    async def install_apk(self, request: Request) -> Response:
        with self.store.lock:
            vm = self._vm(request)
            apk = self.data["apks"].get(request.path_params["apk_id"])
            if (
                apk is None
                or apk["project_id"] != vm["project_id"]
                or self.timeline.apk_status(apk, self.now()) in ("DELETING", "DELETED")
            ):
                raise error(404, "APK not found")
            return answer({"command_id": self._command(vm, "install", apk_id=apk["apk_id"])}, 202)

    async def run_monkey(self, request: Request) -> Response:
        body = await self.body(request)
        packages = body.get("packages")
        if not isinstance(packages, list) or not packages or not all(isinstance(p, str) for p in packages):
            raise malformed("packages must be a non-empty list of package names")
        events = body.get("event_count", 1)
        events = (
            schema_check.parse_int("event_count", events, 1)
            if isinstance(events, str)
            else schema_check.integer("event_count", events, 1)
        )
        with self.store.lock:
            return answer(
                {"command_id": self._command(self._vm(request), "monkey", packages=packages, event_count=events)}, 202
            )

    async def run_tests(self, request: Request) -> Response:
        body = await self.body(request)
        package = schema_check.text("package", schema_check.required(body, "package"))
        with self.store.lock:
            return answer({"command_id": self._command(self._vm(request), "testrun", package=package)}, 202)

    def _results(self, command: Record, vm: Record) -> list[dict[str, Any]]:
        status = self.timeline.command_status(command, vm, self.now())
        started = self.timeline.command_started(command, vm)
        if status != "READY" or started is None:  # a READY command has started
            return [{"returncode": "", "status": status, "stderr": "", "stdout": ""}]
        if command["kind"] == "install":
            apk = self.data["apks"][command["apk_id"]]
            then = self.timeline.apk_status(apk, started)
            problem = apk["status_reason"] if then == "ERROR" else "" if then == "READY" else f"the apk is {then}"
            return [{**outputs.install(apk["apk_id"], apk["size"], problem), "status": "READY"}]
        if command["kind"] == "monkey":
            return [{**outputs.monkey(p, command["event_count"]), "status": "READY"} for p in command["packages"]]
        target = next(
            (a for a in self._installed(vm) if a["instrumentation"] and a["package"] == command["package"]), None
        )
        if target is None:
            return [
                {
                    "returncode": "1",
                    "status": "READY",
                    "stderr": "",
                    "stdout": f"INSTRUMENTATION_FAILED: {command['package']}",
                }
            ]
        failed = failing_positions(
            1, self.options.failure_share, seeded_random(self.options.seed, command["command_id"])
        )
        return [{**outputs.testrun(target["instrumentation"], target["tests"], len(failed)), "status": "READY"}]

    async def read_command(self, request: Request) -> Response:
        with self.store.lock:
            vm = self._vm(request)
            command = self.data["commands"].get(request.path_params["command_id"])
            if command is None or command["avm_id"] != vm["avm_id"]:
                raise error(404, "Command not found")
            return answer({"results": self._results(command, vm)})

    # --- the VM's own facts -------------------------------------------------------------
    async def read_properties(self, request: Request) -> Response:
        with self.store.lock:
            self._vm(request)
        return answer({"properties": outputs.PROPERTIES})

    async def one_time_password(self, request: Request) -> Response:
        with self.store.lock:
            vm = self._vm(request)
        return answer({"totp": outputs.totp(vm["avm_id"], self.now())})
