"""kyaraben projects and Android VMs (AVMs).

Both are created asynchronously: the create records the object at once and
returns once the cloud says READY; one still not READY is waited on again by
the next apply (``pending``). A VM's ERROR is not the end: the doc says the
cloud reschedules a creation that failed (over quota, a network problem), so
the wait goes on, showing the ``status_reason``, until READY or the
provider's ``wait_timeout``.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from labform.providers.base import Arguments, Attrs, Context, ResourceType, arg
from labform.providers.errors import NotFoundError, ProviderError
from labform.providers.kyaraben.client import CLOUD
from labform.providers.kyaraben.client import client_of as _client
from labform.providers.kyaraben.planning import derived_name, plan_facts
from labform.providers.kyaraben.status import READY, await_gone, await_status, describe, is_gone, live
from labform.providers.kyaraben.teardown import keep_hint, kept_campaigns
from labform.providers.mapping import FieldMap

Switch = Literal[0, 1]


class HwConfig(BaseModel):
    """The documented hwconfig keys; any other key is an error at its line."""

    model_config = ConfigDict(extra="forbid")
    width: int | None = Field(None, ge=1, description="Screen width.")
    height: int | None = Field(None, ge=1, description="Screen height.")
    dpi: int | None = Field(None, ge=1, description="Screen DPI.")
    enable_sensors: Switch | None = Field(None, description="Sensors (accelerometer and the like): 1 on, 0 off.")
    enable_battery: Switch | None = Field(None, description="Battery emulation: 1 on, 0 off.")
    enable_gps: Switch | None = Field(None, description="GPS: 1 on, 0 off.")
    enable_camera: Switch | None = Field(None, description="Camera (it shows a kyaraben_camera_file): 1 on, 0 off.")
    enable_record: Switch | None = Field(None, description="Screen recording: 1 on, 0 off.")
    enable_gsm: Switch | None = Field(None, description="GSM modem (calls, SMS): 1 on, 0 off.")
    enable_nfc: Switch | None = Field(None, description="NFC: 1 on, 0 off.")


# --- kyaraben_project --------------------------------------------------------
class ProjectArgs(Arguments):
    project_name: str = arg(min_length=1, description="Need not be unique; a new name renames the project in place.")


PROJECT_FIELDS = FieldMap(id="project_id", project_name="project_name", status="status")


class Project(ResourceType):
    """A kyaraben project; a new name renames it in place."""

    type_name = "kyaraben_project"
    Args = ProjectArgs
    computed = ("id", "status")
    natural_key = ("project_name",)

    def read(self, ctx, id, prior):
        return live(PROJECT_FIELDS.attrs(_client(ctx).project(id)))

    def list_scope(self, attrs):
        return ("projects",)

    def list(self, ctx, scope):
        return filter(None, (live(PROJECT_FIELDS.attrs(p)) for p in _client(ctx).projects()))

    def find_existing(self, ctx, desired):
        return next((p for p in self.listed(ctx, ("projects",)) if p["project_name"] == desired["project_name"]), None)

    def create(self, ctx, desired):
        project_id = _client(ctx).create_project(desired["project_name"])
        attrs = {"id": project_id, "project_name": desired["project_name"], "status": "QUEUED"}
        ctx.record(attrs)
        return self._ready(ctx, attrs)

    def pending(self, desired, actual):
        if actual.get("status") != READY:
            return f"the project is {actual.get('status')}: apply waits for it to be READY"
        return None

    def update(self, ctx, id, desired, actual):
        if desired["project_name"] != actual.get("project_name"):
            _client(ctx).rename_project(id, desired["project_name"])
        return self._ready(ctx, {**actual, "id": id, "project_name": desired["project_name"]})

    @staticmethod
    def _ready(ctx: Context, attrs: Attrs) -> Attrs:
        id = attrs["id"]
        final = await_status(ctx, lambda: _client(ctx).project(id), f"project {id}")
        if final.get("status") != READY:
            raise ProviderError(CLOUD, "wait for project", None, f"project {id} is {describe(final)}")
        return {**attrs, **PROJECT_FIELDS.attrs(final)}

    def delete(self, ctx, id, actual):
        """Refused while the project holds VMs or running campaigns: the error lists them. A server
        may refuse at once (a 4xx) or accept and then report ERROR; both read the same. Refused while
        it holds campaigns this destroy kept by default, it deletes those and asks again (teardown.py)."""
        refusal = self._try_delete(ctx, id)
        if refusal is not None and self._delete_kept_campaigns(ctx, id):
            refusal = self._try_delete(ctx, id)
        if refusal is not None:
            status, said = refusal
            raise ProviderError(CLOUD, "delete project", status, self._refusal(ctx, id, said))

    @staticmethod
    def _try_delete(ctx: Context, id: str) -> tuple[int | None, str] | None:
        """None once the project is gone; else the refusal's status (None when reported as ERROR) and words."""
        client = _client(ctx)
        try:
            client.delete_project(id)
        except ProviderError as error:
            if (
                isinstance(error, NotFoundError)
                or error.status is None
                or error.status in (401, 429)
                or error.status >= 500
            ):
                raise
            return error.status, error.message
        refused = await_gone(ctx, lambda: client.project(id), f"project {id}")
        return None if refused is None else (None, describe(refused))

    @staticmethod
    def _delete_kept_campaigns(ctx: Context, id: str) -> bool:
        """Delete the project's campaigns this destroy kept by default; whether there was any."""
        client, kept = _client(ctx), kept_campaigns(ctx).of(id)
        deleted = False
        for campaign in client.campaigns(id):
            noted = kept.get(campaign["campaign_id"])
            if is_gone(campaign) or noted is None or noted.chosen:
                continue
            ctx.progress(
                f"project {id}: deleting campaign {noted.campaign_id}, kept on destroy by default, which holds it"
            )
            with contextlib.suppress(NotFoundError):
                client.delete_campaign(id, noted.campaign_id)
            deleted = True
        return deleted

    @staticmethod
    def _refusal(ctx: Context, id: str, said: str) -> str:
        """The cloud's words, what the project still holds (servers differ on which campaigns count),
        and for a campaign kept by the user's choice, how to let it go."""
        client, kept = _client(ctx), kept_campaigns(ctx).of(id)
        vms = [vm["avm_id"] for vm in client.avms() if vm.get("project_id") == id and vm.get("status") != "DELETED"]
        campaigns = [c for c in client.campaigns(id) if not is_gone(c)]
        listed = [f"{c['campaign_id']} ({c.get('status')})" for c in campaigns]
        holds = "; ".join(
            part
            for part in (
                f"VMs {', '.join(vms)}" if vms else "",
                f"campaigns {', '.join(listed)}" if listed else "",
            )
            if part
        )
        chosen = [
            kept[c["campaign_id"]] for c in campaigns if c["campaign_id"] in kept and kept[c["campaign_id"]].chosen
        ]
        return (
            f"kyaraben refused to delete project {id} ({said}): a project can only be removed once it holds no running VMs "
            f"or campaigns; it holds {holds or 'none any more (try again)'}"
            + "".join(f"; {keep_hint(id, campaign)}" for campaign in chosen)
        )


# --- kyaraben_avm --------------------------------------------------------------
class AvmArgs(Arguments):
    project: str = arg(force_new=True, min_length=1, description="Project id, e.g. ${kyaraben_project.NAME.id}.")
    image: str = arg(
        force_new=True, min_length=1, description="Android image, one of data kyaraben_images (checked at plan time)."
    )
    avm_name: str | None = arg(
        None,
        min_length=1,
        description="Renamed in place. Unset, labform names the VM labform-<hash of its plan address>.",
    )
    hwconfig: HwConfig | None = arg(None, force_new=True, description="Screen and devices, as given at creation.")
    apks: list[str] | None = arg(
        None,
        unordered=True,
        description="Apk ids to install, each awaited to its result. Adding one installs it in place; kyaraben has "
        "no uninstall, so a removed one stays on the VM (replace the VM for a clean one).",
    )


AVM_FIELDS = FieldMap(id="avm_id", project="project_id", image="image", avm_name="avm_name", status="status")


def _vm_attrs(remote: dict[str, Any]) -> Attrs | None:
    return live(AVM_FIELDS.attrs(remote))


def _command_outcome(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One status for a command's results: still going, failed (with its output), or READY."""
    if not results or any(r.get("status") in ("QUEUED", "RUNNING") for r in results):
        return {"status": (results[0].get("status") if results else "QUEUED")}
    failed = [r for r in results if r.get("status") == "ERROR" or str(r.get("returncode")) != "0"]
    if failed:
        output = " / ".join(str(r.get("stdout") or r.get("stderr") or "") for r in failed)
        return {"status": "ERROR", "status_reason": f"returncode {failed[0].get('returncode')}: {output}"[:300]}
    return {"status": READY}


def _installed(client, avm_id: str, command_id: str) -> dict[str, Any]:
    """The install command's one status, read afresh on each poll."""
    return _command_outcome(client.command_results(avm_id, command_id))


class Avm(ResourceType):
    """A live Android VM in a project, with apks installed."""

    type_name = "kyaraben_avm"
    Args = AvmArgs
    computed = ("id", "status", "avm_name")
    natural_key = ("project", "avm_name")

    def plan_attributes(self, desired, address=""):
        """An unnamed VM is named from its plan address: the same block, the same name."""
        return {} if desired.get("avm_name") is not None else {"avm_name": derived_name(address)}

    def check_remote(self, ctx, desired):
        facts = plan_facts(ctx)
        problems = [("image", why)] if (why := facts.image_problem(desired.get("image"), "image")) else []
        if not problems and (why := facts.claim_live_vm(desired.get("project"), desired.get("avm_name"))):
            problems.append(("", why))
        return problems

    def read(self, ctx, id, prior):
        return _vm_attrs(_client(ctx).avm(id))

    def import_(self, ctx, id):
        """Also takes the hwconfig the VM was created with (a refresh never reads it: it cannot change)."""
        remote = _client(ctx).avm(id)
        found = _vm_attrs(remote)
        if found is None:
            raise NotFoundError(CLOUD, "import kyaraben_avm", 404, f"VM {id} is {remote.get('status')}")
        return {**found, **({"hwconfig": remote["hwconfig"]} if remote.get("hwconfig") else {})}

    def list_scope(self, attrs):
        return ("avms",)

    def list(self, ctx, scope):
        return filter(None, (_vm_attrs(vm) for vm in _client(ctx).avms() if not vm.get("campaign_id")))

    def find_existing(self, ctx, desired):
        """A VM found by its name (adopted, or made by a create whose answer was lost) is taken to
        have none of the apks: installing one again is harmless (see KyarabenClient.install_apk)."""
        key = (desired["project"], desired.get("avm_name"))  # no name while derived from values known only after apply
        found = (
            None
            if key[1] is None
            else next((vm for vm in self.listed(ctx, ("avms",)) if (vm["project"], vm["avm_name"]) == key), None)
        )
        return found if found is None or desired.get("apks") is None else {**found, "apks": []}

    def create(self, ctx, desired):
        body = {
            "project_id": desired["project"],
            "image": desired["image"],
            "avm_name": desired["avm_name"],
            **({"hwconfig": desired["hwconfig"]} if desired.get("hwconfig") else {}),
        }
        avm_id = _client(ctx).create_avm(body)
        attrs = {
            "id": avm_id,
            "project": desired["project"],
            "image": desired["image"],
            "avm_name": desired["avm_name"],
            "status": "QUEUED",
        }
        if desired.get("apks") is not None:
            attrs["apks"] = []
        ctx.record(attrs)
        return self._settle(ctx, attrs, desired)

    def pending(self, desired, actual):
        if actual.get("status") != READY:
            return f"the VM is {actual.get('status')}: apply waits for it to be READY"
        return None

    def update(self, ctx, id, desired, actual):
        """A rename, apks to add, or a VM not READY yet to wait for."""
        attrs = {**actual, "id": id}
        if desired["avm_name"] != actual.get("avm_name"):
            _client(ctx).rename_avm(id, desired["avm_name"])
            attrs["avm_name"] = desired["avm_name"]
        if desired.get("apks") is not None:
            attrs["apks"] = [a for a in actual.get("apks") or [] if a in desired["apks"]]
        return self._settle(ctx, attrs, desired)

    @staticmethod
    def _settle(ctx: Context, attrs: Attrs, desired: Attrs) -> Attrs:
        """Wait for READY (through the ERROR the cloud retries), then install each apk not yet
        on the VM and wait for the command's result, recording each step as it completes."""
        client, avm_id = _client(ctx), attrs["id"]
        final = await_status(ctx, lambda: client.avm(avm_id), f"VM {avm_id}", error_is_final=False)
        attrs["status"] = final.get("status")
        if final.get("status") != READY:
            raise ProviderError(CLOUD, "wait for VM", None, f"VM {avm_id} is {describe(final)}")
        ctx.record(attrs)
        for apk_id in [a for a in desired.get("apks") or [] if a not in attrs["apks"]]:
            command_id = client.install_apk(avm_id, apk_id)
            what = f"VM {avm_id}: install of apk {apk_id}"
            outcome = await_status(ctx, functools.partial(_installed, client, avm_id, command_id), what)
            if outcome["status"] != READY:
                raise ProviderError(CLOUD, "install apk", None, f"{what} failed: {describe(outcome)}")
            attrs["apks"] = [*attrs["apks"], apk_id]
            ctx.record(attrs)
        return attrs

    def delete(self, ctx, id, actual):
        """Waits until the VM is gone: its project can be deleted only then."""
        client = _client(ctx)
        client.delete_avm(id)
        left = await_gone(ctx, lambda: client.avm(id), f"VM {id}")
        if left is not None:
            raise ProviderError(CLOUD, "delete VM", None, f"VM {id} is {describe(left)}")
