"""The emulator's objects, who owns them, and how a request finds one (or gets the doc's 404).

The store holds plain records (see timeline.py for their instants). Lookups
apply the doc's security rule in one place: an object that does not exist,
belongs to another user, or lives in another user's project is a 404, the
same answer every time, so nothing tells a caller what others have.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from labform.providers.emulation import Rejection
from labform.providers.kyaraben.emulator.timeline import Record, Timeline
from labform.providers.kyaraben.emulator.variants import Variants

# The doc's images (GET /images).
IMAGES = [
    {"android_version": 4, "image": "kitkat-tablet"},
    {"android_version": 4, "image": "kitkat-phone"},
    {"android_version": 5, "image": "lollipop-tablet"},
    {"android_version": 5, "image": "lollipop-phone"},
]
# The doc's example quota: what a user has unless a test sets another.
DEFAULT_QUOTA = {"vm_live_max": 3, "vm_async_max": 3}
# The hwconfig of the doc's GET /android/{id} example: the defaults of a filled-in configuration.
HWCONFIG_DEFAULTS = {
    "dpi": 160,
    "enable_battery": 0,
    "enable_camera": 1,
    "enable_gps": 1,
    "enable_gsm": 1,
    "enable_nfc": 0,
    "enable_record": 0,
    "enable_sensors": 1,
    "height": 800,
    "width": 1280,
}
KINDS = ("projects", "avms", "apks", "camera_files", "testsources", "campaigns", "commands")


def new_id() -> str:
    """The doc's ids are 32 hex digits (uuid1 without dashes)."""
    return uuid.uuid4().hex


def initial_data() -> dict[str, Any]:
    return {**{kind: {} for kind in KINDS}, "quotas": {}}


def error(status: int, message: str) -> Rejection:
    """The doc's error object: ``{"error": "..."}``."""
    return Rejection(status, {"error": message}, message)


class World:
    """The store's records as they are at the clock's ``now``; callers hold the store's lock."""

    def __init__(self, data: dict[str, Any], timeline: Timeline, variants: Variants, now: Callable[[], float]):
        self.data = data
        self.timeline = timeline
        self.variants = variants
        self.now = now

    # --- visibility ---------------------------------------------------------------
    def visible(self, status: str) -> bool:
        return status != "DELETED" or self.variants.deleted == "listed"

    def quota_max(self, user: str) -> dict[str, int]:
        return {**DEFAULT_QUOTA, **self.data["quotas"].get("*", {}), **self.data["quotas"].get(user, {})}

    # --- VM slots -------------------------------------------------------------------
    def settle(self, user: str) -> None:
        """Hand out the user's free VM slots up to now (live and campaign VMs are separate pools)."""
        mine = [vm for vm in self.data["avms"].values() if vm["avm_owner"] == user]
        maxima, known = self.quota_max(user), {i["image"] for i in IMAGES}
        for pool, maximum in ((False, maxima["vm_live_max"]), (True, maxima["vm_async_max"])):
            vms = [vm for vm in mine if bool(vm["campaign_id"]) == pool]
            self.timeline.settle(vms, maximum, self.now(), known.__contains__)

    def quota(self, user: str) -> dict[str, int]:
        self.settle(user)
        now, maxima = self.now(), self.quota_max(user)
        holding = [
            vm for vm in self.data["avms"].values() if vm["avm_owner"] == user and self.timeline.holds_slot(vm, now)
        ]
        return {
            "vm_async_current": sum(1 for vm in holding if vm["campaign_id"]),
            "vm_async_max": maxima["vm_async_max"],
            "vm_live_current": sum(1 for vm in holding if not vm["campaign_id"]),
            "vm_live_max": maxima["vm_live_max"],
        }

    # --- lookups (the doc's 404 for anything not the user's) ----------------------------
    def project(self, user: str, project_id: str) -> Record:
        project = self.data["projects"].get(project_id)
        if (
            project is None
            or project["owner"] != user
            or not self.visible(self.timeline.project_status(project, self.now()))
        ):
            raise error(404, "Project not found")
        return project

    def live_project(self, user: str, project_id: str) -> Record:
        """A project that can still take new objects (not being deleted)."""
        project = self.project(user, project_id)
        if project.get("deleted_at") is not None:
            raise error(404, "Project not found")
        return project

    def avm(self, user: str, avm_id: str) -> Record:
        vm = self.data["avms"].get(avm_id)
        if vm is None or vm["avm_owner"] != user:
            raise error(404, "AVM not found")
        self.settle(user)
        if not self.visible(self.timeline.vm_status(vm, self.now())):
            raise error(404, "AVM not found")
        return vm

    def in_project(
        self, kind: str, user: str, project_id: str, object_id: str, status: Callable[[Record], str]
    ) -> Record:
        project = self.project(user, project_id)
        record = self.data[kind].get(object_id)
        if record is None or record["project_id"] != project["project_id"] or not self.visible(status(record)):
            raise error(404, f"{kind.rstrip('s').replace('_', ' ')} not found")
        return record

    def of_project(self, kind: str, project_id: str, status: Callable[[Record], str]) -> list[Record]:
        records = [r for r in self.data[kind].values() if r["project_id"] == project_id]
        return sorted((r for r in records if self.visible(status(r))), key=lambda r: r["created_at"])

    # --- campaigns (their status follows their tests' VMs) ---------------------------
    def test_statuses(self, campaign: Record) -> list[str]:
        self.settle(campaign["owner"])
        now, failing = self.now(), set(campaign["failing"])
        return [
            self.timeline.test_status(self.data["avms"][test["avm_id"]], index in failing or bool(test["problem"]), now)
            for index, test in enumerate(campaign["tests"])
        ]

    def campaign_status(self, campaign: Record) -> str:
        if campaign.get("removed"):
            return "DELETED"
        statuses = self.test_statuses(campaign)
        if all(s in ("READY", "ERROR") for s in statuses):
            return "ERROR" if "ERROR" in statuses and self.variants.failed_campaign == "ERROR" else "READY"
        return "QUEUED" if all(s == "QUEUED" for s in statuses) else "RUNNING"

    def uptime(self, vm: Record) -> float:
        ready = self.timeline.ready_at(vm)
        if ready is None:
            return 0.0
        return max(0.0, min(self.now(), self.timeline.gone_at(vm)) - ready)
