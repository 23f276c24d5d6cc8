"""Test campaigns of a project: list, start, read (with each test's result), delete.

Each test gets a VM of its own from the user's campaign quota (``vm_async_max``);
a test waiting for one stays QUEUED while its VM is in ERROR and retried, as
the doc says of VM creations. A test runs the instrumentation of the first test
package among its apks; without one, or with an apk the project lacks, it ends
in ERROR saying so. Which tests fail otherwise is drawn from the seed and
``failure_share``; a test package ``flaky_rate`` marks as flaky (once, kept
for the emulator's life) fails each of its runs on a VM with probability 0.3,
drawn from the seed and how many times it ran on that image before.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from labform.providers.emulation import failing_positions, flaky_attempt_fails, mark_flaky, seeded_random
from labform.providers.kyaraben.emulator import outputs
from labform.providers.kyaraben.emulator.base import Endpoint, KyarabenBase
from labform.providers.kyaraben.emulator.hwconfig import hwconfig_shown, read_hwconfig
from labform.providers.kyaraben.emulator.replies import answer, no_content
from labform.providers.kyaraben.emulator.timeline import TEST, Record
from labform.providers.kyaraben.emulator.world import new_id

C = "/projects/{project_id}/campaigns"
# Generated names look like the doc's example, "lovely-big-cobra".
ADJECTIVES = ("lovely", "big", "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "quick", "shiny", "witty")
ANIMALS = ("cobra", "otter", "heron", "lynx", "panda", "koala", "gecko", "bison", "raven", "tapir")


class CampaignRoutes(KyarabenBase):
    def campaign_endpoints(self) -> list[Endpoint]:
        return [
            ("GET", C, self.list_campaigns),
            ("POST", C, self.start_campaign),
            ("GET", C + "/{campaign_id}", self.read_campaign),
            ("DELETE", C + "/{campaign_id}", self.delete_campaign),
        ]

    def _campaign(self, request: Request) -> Record:
        params = request.path_params
        return self.world.in_project(
            "campaigns", self.user(request), params["project_id"], params["campaign_id"], self.world.campaign_status
        )

    async def list_campaigns(self, request: Request) -> Response:
        with self.store.lock:
            world = self.world
            project = world.project(self.user(request), request.path_params["project_id"])
            listed = [
                {
                    "campaign_id": c["campaign_id"],
                    "campaign_name": c["campaign_name"],
                    "project_id": c["project_id"],
                    "status": world.campaign_status(c),
                }
                for c in world.of_project("campaigns", project["project_id"], world.campaign_status)
            ]
        return answer({"campaigns": listed})

    async def start_campaign(self, request: Request) -> Response:
        body = await self.body(request)
        tests = body.get("tests")
        if not isinstance(tests, list) or not tests or not all(isinstance(t, dict) for t in tests):
            raise self.check.invalid("tests", tests, "a non-empty list of test objects")
        name = body.get("campaign_name")
        with self.store.lock:
            project = self.world.live_project(self.user(request), request.path_params["project_id"])
            campaign_id = new_id()
            rng = seeded_random(self.options.seed, campaign_id)
            name = (
                self.check.text("campaign_name", name)
                if name
                else f"{rng.choice(ADJECTIVES)}-{rng.choice(ADJECTIVES)}-{rng.choice(ANIMALS)}"
            )
            planned = [self._planned_test(project, index, test) for index, test in enumerate(tests)]
            for index, test in enumerate(planned):
                self._test_vm(project, campaign_id, f"{name}-{index + 1}", test)
            broken = failing_positions(len(planned), self.options.failure_share, rng)
            self.data["campaigns"][campaign_id] = {
                "campaign_id": campaign_id,
                "campaign_name": name,
                "project_id": project["project_id"],
                "owner": project["owner"],
                "created_at": self.now(),
                "tests": planned,
                "failing": sorted(broken | self._flaky_failures(planned)),
                "removed": False,
            }
        return answer({"campaign_id": campaign_id}, 202)

    def _planned_test(self, project: Record, index: int, test: dict[str, Any]) -> dict[str, Any]:
        """A test as the campaign keeps it: what it runs, or why it cannot run."""
        image = self.check.text(f"tests[{index}].image", self.check.required(test, "image"))
        hwconfig = read_hwconfig(test.get("hwconfig"), self.variants, f"tests[{index}].hwconfig")
        apk_ids = [str(a) for a in test.get("apks") or []]
        apks = [self.data["apks"].get(a) for a in apk_ids]
        missing = [
            a
            for a, apk in zip(apk_ids, apks, strict=False)
            if apk is None or apk["project_id"] != project["project_id"]
        ]
        runnable = next((apk for apk in apks if apk and not missing and apk["instrumentation"]), None)
        if missing:
            problem = f"INSTRUMENTATION_FAILED: apk {', '.join(missing)} not found in the project"
        elif runnable is None:
            problem = "INSTRUMENTATION_FAILED: no instrumented test package among the apks"
        else:
            problem = ""
        return {
            "image": image,
            "hwconfig": hwconfig,
            "apks": apk_ids,
            "packages": [str(p) for p in test.get("packages") or []],
            "package": runnable["instrumentation"] if runnable else "",
            "tests": runnable["tests"] if runnable else 0,
            "problem": problem,
            "avm_id": "",
        }

    def _flaky_failures(self, planned: list[dict[str, Any]]) -> set[int]:
        """The positions of tests whose package is flaky and whose run this time fails."""
        marks = self.data.setdefault("flaky", {})
        runs = self.data.setdefault("test_runs", {})
        mark_flaky(marks, (t["package"] for t in planned if t["package"]), self.options.flaky_rate, self.options.seed)
        failing = set()
        for index, test in enumerate(planned):
            if not marks.get(test["package"]):
                continue
            key = f"{test['package']}|{test['image']}"
            runs[key] = runs.get(key, 0) + 1
            if flaky_attempt_fails(self.options.seed, key, runs[key]):
                failing.add(index)
        return failing

    def _test_vm(self, project: Record, campaign_id: str, name: str, test: dict[str, Any]) -> None:
        avm_id = new_id()
        test["avm_id"] = avm_id
        self.data["avms"][avm_id] = {
            "avm_id": avm_id,
            "avm_name": name,
            "avm_owner": project["owner"],
            "campaign_id": campaign_id,
            "image": test["image"],
            "project_id": project["project_id"],
            "hwconfig": test["hwconfig"],
            "created_at": self.now(),
            "slot_at": None,
            "deleted_at": None,
            "status_reason": "",
        }

    async def read_campaign(self, request: Request) -> Response:
        with self.store.lock:
            world = self.world
            campaign = self._campaign(request)
            statuses = world.test_statuses(campaign)
            failing = set(campaign["failing"])
            tests = []
            for index, (test, status) in enumerate(zip(campaign["tests"], statuses, strict=False)):
                done = status in ("READY", "ERROR")
                if not done:
                    stdout = ""
                elif test["problem"]:
                    stdout = test["problem"]
                else:
                    stdout = outputs.instrumentation(
                        test["package"], test["tests"], 1 if index in failing else 0, TEST * self.options.job_duration
                    )
                shown = hwconfig_shown(test["hwconfig"], self.variants)
                tests.append(
                    {
                        "hwconfig": shown,
                        "image": test["image"],
                        "package": test["package"],
                        "status": status,
                        "stdout": stdout,
                    }
                )
            finished = sum(s in ("READY", "ERROR") for s in statuses)
            body = {
                "campaign_id": campaign["campaign_id"],
                "campaign_name": campaign["campaign_name"],
                "campaign_status": world.campaign_status(campaign),
                "progress": round(finished / len(statuses), 4) if statuses else 1.0,
                "project_id": campaign["project_id"],
                "tests": tests,
            }
        return answer({"campaign": body})

    async def delete_campaign(self, request: Request) -> Response:
        """Removes it, running or finished; the VMs of tests still going are deleted."""
        with self.store.lock:
            campaign = self._campaign(request)
            campaign["removed"] = True
            now = self.now()
            for test in campaign["tests"]:
                vm = self.data["avms"][test["avm_id"]]
                if vm["deleted_at"] is None or vm["deleted_at"] > now:
                    vm["deleted_at"] = now
        return no_content()
