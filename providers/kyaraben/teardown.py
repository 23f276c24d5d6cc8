"""What a destroy's campaign deletes leave on the cloud, for the project delete that follows.

The engine destroys dependents first, so a project's campaigns are deleted (or, by
``on_destroy: keep``, the default, only forgotten) before the project itself. The doc
forbids deleting a project that holds "running vms or campaigns"; a server that counts
a finished campaign too then refuses the project while a kept campaign is there.

A campaign kept by default is noted here, and the project delete that is refused
for it deletes it and tries again: keeping its history only meant keeping it as long
as its project stays. One whose block says ``on_destroy: keep`` is the user's choice:
it is noted too, never deleted, and the refusal names it and how to let it go.

The notes live as long as the client, that is one command (as planning.py's facts).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from labform.providers.base import Context
from labform.providers.kyaraben.client import KyarabenClient
from labform.providers.kyaraben.client import client_of as _client


@dataclass(frozen=True)
class KeptCampaign:
    campaign_id: str
    campaign_name: str
    # True when the block says ``on_destroy: keep``; False when it is kept by default.
    chosen: bool


@dataclass
class KeptCampaigns:
    """One command's campaigns forgotten on destroy, by project."""

    by_project: dict[str, dict[str, KeptCampaign]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, project: str, campaign: KeptCampaign) -> None:
        with self.lock:
            self.by_project.setdefault(project, {})[campaign.campaign_id] = campaign

    def of(self, project: str) -> dict[str, KeptCampaign]:
        with self.lock:
            return dict(self.by_project.get(project, {}))


_KEPT: WeakKeyDictionary[KyarabenClient, KeptCampaigns] = WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def kept_campaigns(ctx: Context) -> KeptCampaigns:
    client = _client(ctx)
    with _KEPT_LOCK:
        return _KEPT.setdefault(client, KeptCampaigns())


def keep_hint(project: str, campaign: KeptCampaign) -> str:
    """How to let a project go that a campaign kept by the user's choice holds."""
    return (
        f"campaign {campaign.campaign_id} ({campaign.campaign_name}) is there because its kyaraben_campaign block "
        f"says on_destroy: keep; delete it (DELETE /projects/{project}/campaigns/{campaign.campaign_id}) and destroy "
        "again, or set on_destroy: delete on that block (and apply) before destroying"
    )
