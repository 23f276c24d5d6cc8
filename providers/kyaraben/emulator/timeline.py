"""Where each object is in its life at a virtual time: statuses are computed, never stored.

Every record keeps the instants that matter (created, slot obtained, deleted);
its status at ``now`` follows from them and the job duration ``D``. The one
thing decided as time passes is who gets a VM slot: ``settle`` hands slots out
first come, first served, within the user's quota; a VM that finds none is in
ERROR and keeps being retried, as the doc says of OpenStack errors.

    (fractions of D)   QUEUED until             then                                 done at
    project            0.05                     CREATING                             READY 0.2
    VM                 0.1 (then asks a slot)   CREATING from its slot               READY slot + 0.2
    apk upload         0.02                     UPLOADING                            READY 0.1
    camera file        -                        UPLOADING                            READY 0.1
    compiled apk       0.05                     COMPILING DSL, COMPILING JAVA at 0.1 READY 0.2
    test source        -                        UPLOADING                            READY 0.05
    command            its VM is READY          RUNNING                              READY + 0.1
    campaign test      its VM has a slot        RUNNING                              READY/ERROR slot + 1
    any delete         -                        DELETING                             DELETED + 0.1
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

QUEUE = 0.1
BOOT = 0.2
DELETE = 0.1
TEST = 1.0
Record = dict[str, Any]


class Timeline:
    def __init__(self, job_duration: float):
        self.d = job_duration

    # --- deletes shared by every kind -------------------------------------------
    def deleted_status(self, record: Record, now: float) -> str | None:
        deleted_at = record.get("deleted_at")
        if deleted_at is None or now < deleted_at:
            return None
        return "DELETING" if now < deleted_at + DELETE * self.d else "DELETED"

    def gone_at(self, record: Record) -> float:
        """When a deleted object is DELETED (infinity while it is not deleted)."""
        deleted_at = record.get("deleted_at")
        return math.inf if deleted_at is None else deleted_at + DELETE * self.d

    # --- projects ---------------------------------------------------------------
    def project_status(self, project: Record, now: float) -> str:
        if deleted := self.deleted_status(project, now):
            return deleted
        if project.get("refused_reason"):
            return "ERROR"
        age = now - project["created_at"]
        return "QUEUED" if age < 0.05 * self.d else "CREATING" if age < BOOT * self.d else "READY"

    # --- VMs --------------------------------------------------------------------
    def asks_slot_at(self, vm: Record) -> float:
        return vm["created_at"] + QUEUE * self.d

    def ready_at(self, vm: Record) -> float | None:
        return None if vm.get("slot_at") is None else vm["slot_at"] + BOOT * self.d

    def vm_status(self, vm: Record, now: float) -> str:
        if deleted := self.deleted_status(vm, now):
            return deleted
        ready = self.ready_at(vm)
        if ready is None:
            return "ERROR" if vm.get("status_reason") and now >= self.asks_slot_at(vm) else "QUEUED"
        return "CREATING" if now < ready else "READY"

    def holds_slot(self, vm: Record, at: float) -> bool:
        return vm.get("slot_at") is not None and vm["slot_at"] <= at < self.gone_at(vm)

    def settle(self, vms: list[Record], maximum: int, now: float, image_known: Callable[[str], bool]) -> None:
        """Give waiting VMs of one pool (a user's live VMs, or campaign VMs) a slot, in creation
        order, at the first instant up to ``now`` that the pool had one free."""
        for vm in sorted(vms, key=lambda v: v["created_at"]):  # stable: creation order within an instant
            if vm.get("slot_at") is not None or now < self.asks_slot_at(vm) or self.deleted_status(vm, now):
                continue
            if not image_known(vm["image"]):
                vm["status_reason"] = (
                    f"image '{vm['image']}' not found in the image store (the creation is rescheduled)"
                )
                continue
            asked = self.asks_slot_at(vm)
            moments = [asked] + sorted(t for t in (self.gone_at(o) for o in vms) if asked < t <= now)
            for moment in moments:
                used = sum(self.holds_slot(other, moment) for other in vms if other is not vm)
                if used < maximum and moment < self.gone_at(vm):
                    vm["slot_at"], vm["status_reason"] = moment, ""
                    if vm.get("campaign_id"):
                        # A campaign VM lives for its test, then is removed.
                        vm["deleted_at"] = moment + TEST * self.d
                    break
            else:
                used = sum(self.holds_slot(other, now) for other in vms if other is not vm)
                vm["status_reason"] = (
                    f"Quota exceeded for instances: Requested 1, but already used {used} of {maximum} instances "
                    "(the creation is rescheduled)"
                )

    # --- uploads ------------------------------------------------------------------
    def apk_status(self, apk: Record, now: float) -> str:
        if deleted := self.deleted_status(apk, now):
            return deleted
        age = now - apk["created_at"]
        steps: tuple[tuple[float, str], ...]
        if apk.get("testsource_id"):
            steps = ((0.05, "QUEUED"), (0.1, "COMPILING DSL"), (BOOT, "COMPILING JAVA"))
        else:
            steps = ((0.02, "QUEUED"), (0.1, "UPLOADING"))
        for until, status in steps:
            if age < until * self.d:
                return status
        return "ERROR" if apk.get("status_reason") else "READY"

    def camera_status(self, camera: Record, now: float) -> str:
        if deleted := self.deleted_status(camera, now):
            return deleted
        return "UPLOADING" if now - camera["created_at"] < 0.1 * self.d else "READY"

    def testsource_status(self, source: Record, now: float) -> str:
        return "UPLOADING" if now - source["updated_at"] < 0.05 * self.d else "READY"

    # --- commands -------------------------------------------------------------------
    def command_started(self, command: Record, vm: Record) -> float | None:
        ready = self.ready_at(vm)
        return None if ready is None else max(command["created_at"], ready)

    def command_status(self, command: Record, vm: Record, now: float) -> str:
        started = self.command_started(command, vm)
        if started is None or now < started:
            return "QUEUED"
        if now < started + 0.1 * self.d:
            return "RUNNING"
        return "ERROR" if self.deleted_status(vm, started + 0.1 * self.d) else "READY"

    # --- campaigns -----------------------------------------------------------------
    def test_status(self, vm: Record, failed: bool, now: float) -> str:
        slot = vm.get("slot_at")
        if slot is None or now < slot:
            return "QUEUED"
        if now < slot + TEST * self.d:
            return "RUNNING"
        return "ERROR" if failed else "READY"
