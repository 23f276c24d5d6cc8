"""Finding labform's own interrupted or ambiguous creates by their natural key.

A create whose answer was lost (a 5xx to a POST, a connection dropped after
sending, an unreadable answer, a kill between the request and the journal's
result) may or may not have made the object. labform looks it up by the
natural key the intent recorded and takes it over only when exactly one
object matches — or, when several share the key and the API gives creation
times, exactly one was created after the intent was written. When several
match, the command stops with a ``labform import`` line for each candidate,
so the user decides.

Finding nothing means "not created" only where the type's look-up proves
absence (``ResourceType.lookup_proves_absence`` and a natural key), and a
create that replaces the one object of its kind (``create_replaces``) is
simply sent again: it cannot make a twin. Elsewhere
the intent is kept, marked *unresolved*; every plan shows it, every apply
refuses (:class:`UnresolvedCreate`) until ``labform state resolve`` records
the object (``--id``) or forgets the intent (``--not-created``), or until a
later look-up positively finds it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from labform.engine.addresses import Address
from labform.engine.arguments import resource_type
from labform.engine.changes import Notice, Unresolved
from labform.engine.errors import LabformError
from labform.engine.graph import DependencyGraph
from labform.engine.session import ProviderSession
from labform.engine.state import State
from labform.engine.state.recorder import StateRecorder
from labform.providers.base import Context, ResourceType

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


class UnresolvedCreate(LabformError):
    """An apply or destroy refused before any change: a create's outcome is unknown, and sending it
    again could make a duplicate (a second paid run)."""

    def __init__(self, unresolved: list[Unresolved]):
        lines = "\n".join(f"  {item.line()}: {item.why}\n{item.commands('    ')}" for item in unresolved)
        super().__init__(
            f"labform cannot tell whether {len(unresolved)} earlier create{'s' if len(unresolved) > 1 else ''} "
            f"made {'their objects' if len(unresolved) > 1 else 'its object'}, so nothing is applied until you say:\n{lines}"
        )


def safe_to_send_again(rtype: ResourceType) -> bool:
    """Whether a create of unknown outcome that a look-up did not find may be sent again: it replaces
    the one object of its kind (never a twin), or finding nothing by natural key proves it made none."""
    return rtype.create_replaces or (bool(rtype.natural_key) and rtype.lookup_proves_absence)


def unresolved(state: State) -> list[Unresolved]:
    """The creates whose outcome is unknown, as plans show them and applies refuse them."""
    return [
        Unresolved(Address.parse(key), float(intent["time"]), str(intent["unresolved"]["why"]))
        for key, intent in state.unresolved().items()
    ]


def refuse_unresolved(state: State) -> None:
    """Stop an apply or destroy before any change while a create's outcome is unknown."""
    held = unresolved(state)
    if held:
        raise UnresolvedCreate(held)


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
    """Resolve every create a killed command announced but never recorded, before planning: adopt
    what the look-up finds, forget what it proves absent, and mark the rest unresolved."""
    notices = []
    for key, intent in sorted(recorder.state.intents.items()):
        address = Address.parse(key)
        rtype = resource_type(address)
        ctx = replace(session.context(address.provider), address=key)
        found = find_created(rtype, ctx, address, intent["desired"], float(intent["time"]))
        if found is None:
            if safe_to_send_again(rtype):
                recorder.abandon(address, "interrupted create not found; sending it again makes no twin")
            else:
                recorder.unresolved(address, f"an apply stopped after sending the create, and {_unprovable(rtype)}")
            continue
        dependencies = sorted(str(a) for a in graph.dependencies(address) if not a.is_data) if address in graph else []
        recorder.remember(address, {**intent["desired"], **found}, dependencies)
        notices.append(
            Notice(address, f"recovered from an interrupted apply (id {found['id']}, found by its natural key)")
        )
    return notices


def unresolved_failure(rtype: ResourceType, message: str) -> str:
    """Why a create whose answer was lost and whose object was not seen is held, not sent again."""
    return f"{message}; it may have been created, and {_unprovable(rtype)}"


def _unprovable(rtype: ResourceType) -> str:
    if not rtype.natural_key:
        return f"{rtype.type_name} has no natural key to look it up by"
    return f"not seeing it is no proof: {rtype.type_name}'s look-up does not show every object"
