"""The state document: which remote object each address is, with its attributes and dependencies."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = 1


@dataclass
class ResourceState:
    type: str
    id: str
    attributes: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    # Taken over rather than created (same content already uploaded): destroy forgets it.
    adopted: bool = False
    # It exists but cannot reach its desired state by an update: the next plan replaces it.
    tainted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ResourceState:
        return cls(
            **{k: raw[k] for k in ("type", "id", "attributes", "dependencies", "adopted", "tainted") if k in raw}
        )


@dataclass
class State:
    serial: int = 0
    # Empty until the first write, so a plan made before any state exists stays valid.
    lineage: str = ""
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    # Creates announced in the journal whose result was never recorded (a killed
    # apply): address -> {action, desired, natural_key, time}. Resolved before planning;
    # one labform cannot resolve also holds "unresolved": {time, why}, and every apply
    # refuses until ``labform state resolve`` says what became of it (older state has none).
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def unresolved(self) -> dict[str, dict[str, Any]]:
        """The intents marked unresolved, by address: what every apply refuses to go past."""
        return {address: item for address, item in sorted(self.intents.items()) if item.get("unresolved")}

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=str) + "\n"

    @classmethod
    def from_json(cls, text: str) -> State:
        """Reads this release's state and the ones before it (no intents, no adopted flag, no unresolved marks)."""
        raw = json.loads(text)
        resources = {addr: ResourceState.from_dict(item) for addr, item in raw.get("resources", {}).items()}
        return cls(
            serial=raw["serial"],
            lineage=raw["lineage"],
            resources=resources,
            outputs=raw.get("outputs", {}),
            intents=raw.get("intents", {}),
            version=FORMAT_VERSION,
        )
