"""What a plan asks kyaraben before any change: do the images exist, does the quota suffice.

The facts (images, quota, live VMs) are read once per command and shared by
every resource's ``check_remote``; each VM or campaign the plan would start
claims its share of the quota here, so the plan that would overflow
``vm_live_max`` or ``vm_async_max`` fails at the resource that tips it over,
naming the numbers, before anything is created.

An object the cloud already has (same project and name) claims nothing: the
plan updates it, or replaces it by deleting first. ``check_remote`` is not
told the planned action, so renaming a VM (its name changes) counts it as new.

Names labform gives objects the plan leaves unnamed are derived here too: a
resource cannot see its address, so the name is a stable hash of its arguments.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any
from weakref import WeakKeyDictionary

from labform.providers.base import Context
from labform.providers.errors import NotFoundError
from labform.providers.kyaraben.client import KyarabenClient
from labform.providers.kyaraben.client import client_of as _client
from labform.providers.kyaraben.status import is_gone

NAME_PREFIX = "labform-"


def derived_name(*parts: Any) -> str:
    """``labform-`` and 12 hex digits of the parts' hash: the same arguments, the same name."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return NAME_PREFIX + digest[:12]


class PlanFacts:
    """One command's view of the user's images, quota and VMs, and the quota its plan claims."""

    def __init__(self, client: KyarabenClient):
        self.client = client
        self._lock = threading.Lock()
        self._read: dict[str, Any] = {}
        self.live_planned = 0
        self.async_planned = 0

    def _once(self, name: str, read) -> Any:
        with self._lock:
            if name not in self._read:
                self._read[name] = read()
            return self._read[name]

    def images(self) -> list[str]:
        return self._once("images", lambda: sorted(i["image"] for i in self.client.images()))

    def quota(self) -> dict[str, int]:
        return self._once("quota", lambda: {k: int(v) for k, v in self.client.quota().items()})

    def live_vms(self) -> list[dict[str, Any]]:
        return self._once(
            "avms", lambda: [vm for vm in self.client.avms() if not vm.get("campaign_id") and not is_gone(vm)]
        )

    def campaigns(self, project: str) -> list[dict[str, Any]]:
        def listed() -> list[dict[str, Any]]:
            try:
                return self.client.campaigns(project)
            except NotFoundError:
                return []  # the project is gone: the plan makes it again

        return self._once(f"campaigns {project}", listed)

    def claim_live_vm(self, project: Any, name: Any) -> str | None:
        """A problem if one more live VM would pass vm_live_max; None (and the VM counted) otherwise."""
        if isinstance(project, str) and any(
            vm.get("project_id") == project and vm.get("avm_name") == name for vm in self.live_vms()
        ):
            return None
        quota = self.quota()
        with self._lock:
            self.live_planned += 1
            planned = self.live_planned
        total = quota["vm_live_current"] + planned
        if total <= quota["vm_live_max"]:
            return None
        return (
            f"quota: this plan starts {planned} live VMs and the user has {quota['vm_live_current']} already; "
            f"{total} is more than vm_live_max {quota['vm_live_max']}"
        )

    def claim_campaign_vms(self, project: Any, name: Any, count: int) -> str | None:
        """A problem if ``count`` more campaign VMs would pass vm_async_max; None (and counted) otherwise."""
        if isinstance(project, str) and any(
            c.get("campaign_name") == name and not is_gone(c) for c in self.campaigns(project)
        ):
            return None
        quota = self.quota()
        with self._lock:
            self.async_planned += count
            planned = self.async_planned
        total = quota["vm_async_current"] + planned
        if total <= quota["vm_async_max"]:
            return None
        return (
            f"quota: this plan's campaigns need {planned} concurrent VMs and {quota['vm_async_current']} run already; "
            f"{total} is more than vm_async_max {quota['vm_async_max']}"
        )

    def image_problem(self, image: Any, field: str) -> str | None:
        if not isinstance(image, str) or image in self.images():
            return None
        return f"{field}: '{image}' is not an image kyaraben offers (images: {', '.join(self.images())})"


_FACTS: WeakKeyDictionary[KyarabenClient, PlanFacts] = WeakKeyDictionary()
_FACTS_LOCK = threading.Lock()


def plan_facts(ctx: Context) -> PlanFacts:
    """The facts of this command: a client lives exactly as long as one command's session."""
    client = _client(ctx)
    with _FACTS_LOCK:
        if client not in _FACTS:
            _FACTS[client] = PlanFacts(client)
        return _FACTS[client]
