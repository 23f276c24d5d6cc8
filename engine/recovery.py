"""Finding labform's own interrupted or ambiguous creates by their natural key.

A create whose answer was lost (a 5xx to a POST, a connection dropped after
sending, an unreadable answer, a kill between the request and the journal's
result) may or may not have made the object. labform looks it up by the
natural key the intent recorded and takes it over only when exactly one
object matches — or, when several share the key and the API gives creation
times, exactly one was created after the intent was written. Otherwise the
command stops with a ``labform import`` line for each candidate, so the user
decides.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.addresses import Address
from engine.arguments import resource_type
from engine.changes import Notice
from engine.errors import LabformError
from engine.graph import DependencyGraph
from engine.session import ProviderSession
from engine.state.recorder import StateRecorder
from providers.base import Context, ResourceType

# Clocks of this machine and the cloud may disagree a little.
CLOCK_SKEW = 5.0
# A create that failed ambiguously and whose object is not there is sent again, at most this often
# (at 30% faults a POST fails before acting one time in ten: 3 sends all fail so once in 1,000 creates).
CREATE_ATTEMPTS = 5


class AmbiguousRecovery(LabformError):
    def __init__(self, address: Address, candidates: list[dict[str, Any]]):
        lines = "\n".join(f"  labform import {address} {c['id']}" for c in candidates)
        super().__init__(
            f"{address}: an interrupted create may have made any of {len(candidates)} objects with its natural key; "
            f"import the right one and run again:\n{lines}"
        )


def find_created(
    rtype: ResourceType, ctx: Context, address: Address, desired: dict[str, Any], since: float
) -> dict[str, Any] | None:
    """The one object the create made, None if it made none (or the type has no natural key)."""
    if not rtype.natural_key:
        return None
    found = rtype.candidates(ctx, desired)
    if len(found) > 1:
        # Several share the key (runs of one name): only those made after the intent can be it.
        found = [c for c in found if c.get("created_at") is not None and float(c["created_at"]) >= since - CLOCK_SKEW]
        if len(found) != 1:
            raise AmbiguousRecovery(address, rtype.candidates(ctx, desired))
    return found[0] if found else None


def recover_intents(recorder: StateRecorder, session: ProviderSession, graph: DependencyGraph) -> list[Notice]:
    """Resolve every create a killed command announced but never recorded, before planning."""
    notices = []
    for key, intent in sorted(recorder.state.intents.items()):
        address = Address.parse(key)
        rtype = resource_type(address)
        ctx = replace(session.context(address.provider), address=key)
        found = find_created(rtype, ctx, address, intent["desired"], float(intent["time"]))
        if found is None:
            why = (
                "nothing with its natural key exists" if rtype.natural_key else "it has no natural key to look it up by"
            )
            recorder.abandon(address, f"interrupted create not found: {why}")
            if not rtype.natural_key:
                notices.append(
                    Notice(
                        address,
                        "an interrupted apply may have created it and it cannot be looked up: check the cloud for a duplicate",
                    )
                )
            continue
        dependencies = sorted(str(a) for a in graph.dependencies(address) if not a.is_data) if address in graph else []
        recorder.remember(address, {**intent["desired"], **found}, dependencies)
        notices.append(
            Notice(address, f"recovered from an interrupted apply (id {found['id']}, found by its natural key)")
        )
    return notices
