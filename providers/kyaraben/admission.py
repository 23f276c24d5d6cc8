"""What a kyaraben campaign could be asked to meet before it starts: neither a budget nor a pick.

The kyaraben doc prices nothing and caps no campaign's runtime (its one
limit, the user's VM quota, is checked at plan time: planning.py), and each
campaign test gets a VM made from an image, not a device from a pool: both
``budget`` and ``pick`` are validate errors saying so.
"""

from __future__ import annotations

from typing import ClassVar

from labform.providers.budget import Budget
from labform.providers.picking import Pick


class CampaignBudget(Budget):
    """Not on kyaraben: it prices nothing and caps no runtime (a validate error says so)."""

    cloud: ClassVar[str] = "kyaraben"
    measures: ClassVar[str] = "neither prices a campaign nor caps its runtime (its limit is the VM quota)"


class CampaignPick(Pick):
    """Not on kyaraben: a campaign test gets a VM made from its image (a validate error says so)."""

    cloud: ClassVar[str] = "kyaraben"
    unsupported: ClassVar[str | None] = (
        "each campaign test runs on a VM made from its image, not on a device from a pool"
    )
