"""The high-water mark: the highest serial a backend has seen for a lineage, so an older state is refused.

Every state carries its lineage and serial inside what it authenticates; the mark is
kept beside the state (a sealed file next to a local state, a row for PostgreSQL),
sealed with the state's key, and raised after each write (the data first, then the
mark: a crash leaves it behind, never ahead). Reading a state older than the mark, of
another lineage, or gone, is refused naming both serials. ``labform state rekey
-force-rollback`` accepts one on purpose: the mark is lowered, the acceptance is kept in
it (``forced``) and recorded in the journal.

What it cannot see: a mark restored together with the state (a whole folder from a
backup) — only a mark kept elsewhere than the state catches that (``high_water.command``,
keeper.py).
"""

from __future__ import annotations

import getpass
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from labform.engine.encryption.envelope import Envelope
from labform.engine.encryption.errors import EncryptionError
from labform.engine.encryption.target import Target
from labform.engine.state.model import State

CONTENT = "high-water mark"
ACCEPT = "labform state rekey -force-rollback"


@dataclass
class Mark:
    lineage: str
    serial: int
    forced: list[dict[str, Any]] = field(default_factory=list)  # every rollback accepted on purpose

    def accepting(self, state: State) -> Mark:
        """The mark after accepting ``state`` on purpose (``-force-rollback``)."""
        entry = {
            "time": time.time(),
            "user": getpass.getuser(),
            "from": {"lineage": self.lineage, "serial": self.serial},
            "to": {"lineage": state.lineage, "serial": state.serial},
        }
        return Mark(state.lineage, state.serial, [*self.forced, entry])


def problem(mark: Mark, state: State, where: str) -> str | None:
    """Why ``state`` must not be used, given the mark; None when it is as new as the mark or newer."""
    hint = f"restore the newest state, or accept this one on purpose with '{ACCEPT}'"
    seen = f"the highest this backend has seen is serial {mark.serial} of lineage {mark.lineage}"
    if not state.lineage and mark.serial:
        return f"state {where} is gone or empty (serial {state.serial}), but {seen}: {hint}"
    if state.lineage and state.lineage != mark.lineage:
        return (
            f"state {where} is of another lineage ({state.lineage}, serial {state.serial}) than the one this "
            f"backend keeps ({mark.lineage}, serial {mark.serial}): it was swapped; {hint}"
        )
    if state.serial < mark.serial:
        return f"state {where} was rolled back: its serial {state.serial} is older than serial {mark.serial}, {seen}; {hint}"
    return None


def sealed(mark: Mark, target: Target) -> Envelope:
    context = {"lineage": mark.lineage, "serial": mark.serial}
    return target.seal(CONTENT, json.dumps(asdict(mark), sort_keys=True, default=str).encode(), context)


def opened(document: Any, target: Target, where: str) -> Mark:
    try:
        raw = json.loads(target.open(document, f"the high-water mark of {where}"))
        return Mark(str(raw["lineage"]), int(raw["serial"]), list(raw.get("forced", [])))
    except (ValueError, KeyError, TypeError):
        raise EncryptionError(f"the high-water mark of {where} is tampered: its content is not a mark") from None
