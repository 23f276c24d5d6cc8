"""The readings of the kyaraben doc where it is silent or contradicts itself, one field each (how doc variants work: providers/emulation/README.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True)
class Variants:
    # A DELETE /projects/{id} the doc forbids: refused at once with 409 or 400, or accepted (202)
    # and then reported as status ERROR with a status_reason.
    project_delete_refusal: Literal[409, 400, "async"] = 409
    # What blocks that delete: running VMs and running campaigns, or any campaign still listed.
    blocking_campaigns: Literal["running", "any"] = "running"
    # The rename of a VM: the example's PUT /android/{avm_id}, the heading's PUT /android
    # (avm_id in the body), or both.
    avm_rename_paths: Literal["both", "path", "heading"] = "both"
    # The key PUT /projects/{id} reads: the example's project_name, the field list's avm_name, or either.
    project_rename_key: Literal["either", "project_name", "avm_name"] = "either"
    # A deleted object: gone (404, unlisted) once DELETED, or still listed and readable as DELETED.
    deleted: Literal["gone", "listed"] = "gone"
    # GET /android/{id} hwconfig: every documented key (those not given at their defaults), or only those given.
    hwconfig: Literal["filled", "given"] = "filled"
    # A campaign whose tests finished, some in ERROR: READY, or ERROR.
    failed_campaign: Literal["READY", "ERROR"] = "READY"
    # POST /android with a hwconfig key the doc does not list: ignored, or a 400 with the schema.
    unknown_hwconfig_keys: Literal["ignored", "rejected"] = "ignored"
    # GET /images without X-Auth-UserId: answered (it names no user's object), or the doc's 401.
    images_need_user: bool = False


DEFAULT = Variants()
VARIANTS: dict[str, Variants] = {
    "default": DEFAULT,
    "delete-refused-400": replace(DEFAULT, project_delete_refusal=400),
    "delete-refused-async": replace(DEFAULT, project_delete_refusal="async"),
    "any-campaign-blocks-delete": replace(DEFAULT, blocking_campaigns="any"),
    "rename-vm-path-only": replace(DEFAULT, avm_rename_paths="path"),
    "rename-vm-heading-only": replace(DEFAULT, avm_rename_paths="heading"),
    "rename-project-name-only": replace(DEFAULT, project_rename_key="project_name"),
    "rename-project-avm-name-only": replace(DEFAULT, project_rename_key="avm_name"),
    "deleted-stay-listed": replace(DEFAULT, deleted="listed"),
    "hwconfig-as-given": replace(DEFAULT, hwconfig="given"),
    "failed-campaign-error": replace(DEFAULT, failed_campaign="ERROR"),
    "strict-hwconfig": replace(DEFAULT, unknown_hwconfig_keys="rejected"),
    "images-need-user": replace(DEFAULT, images_need_user=True),
}
