"""What a Bitbar run or device group must meet before labform starts or fills it: its budget, its pick.

Bitbar prices devices (the doc's device ``creditsPrice``: "Credits price for
running test on this device"; a group's "Using group cost (in credits)"; the
project config's ``creditsPrice``), so a run's budget is in credits: the
project config's price, once per attempt. The doc's device object has no
availability field (id, displayName, softwareVersion, creditsPrice, image
fields, osType), so a device cannot be picked by being free now.
"""

from __future__ import annotations

from typing import ClassVar

from labform.providers.base import Attrs, Context
from labform.providers.bitbar.client import ME
from labform.providers.bitbar.client import client_of as _client
from labform.providers.bitbar.client import project_path as _project_path
from labform.providers.budget import Budget, Estimate, Unit
from labform.providers.picking import Pick


class RunBudget(Budget):
    """In credits: the project config's price of a run (its device group's devices), once per attempt."""

    cloud: ClassVar[str] = "bitbar"
    unit: ClassVar[Unit | None] = "credits"
    measures: ClassVar[str] = "prices each device in credits"

    @classmethod
    def per_attempt(cls, ctx: Context, desired: Attrs) -> Estimate | str:
        project = desired.get("project")
        if not isinstance(project, int):
            return "the run's project is created by this plan, so its price is known only after apply (apply it first)"
        config = _client(ctx).get(f"{_project_path(project)}/config", "read project config")
        group_id = config.get("usedDeviceGroupId")
        group = _client(ctx).get(f"{ME}/device-groups/{group_id}", "read device group") if group_id else {}
        where = f"device group '{group.get('displayName', group_id)}' of {group.get('deviceCount', 0)} devices"
        price = float(config.get("creditsPrice") or 0)
        return Estimate(price, f"project {project}'s config prices a run at {price:g} credits ({where})")


class GroupPick(Pick):
    """Not on Bitbar: its device object says nothing of availability (a validate error says so)."""

    cloud: ClassVar[str] = "bitbar"
    unsupported: ClassVar[str | None] = (
        "the Bitbar API's device object has no availability field (id, displayName, softwareVersion, creditsPrice, "
        "image fields, osType), so labform cannot tell which devices are free now; list them in devices"
    )
