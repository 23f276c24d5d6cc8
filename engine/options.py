"""What a plan or apply was asked to do (the CLI's flags, as plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.addresses import Address

# Changes applied at once, as in Terraform. HTTP calls wait on the network, not the CPU.
DEFAULT_PARALLELISM = 10


@dataclass
class PlanOptions:
    destroy: bool = False
    refresh_only: bool = False
    targets: list[Address] = field(default_factory=list)
    replace: list[Address] = field(default_factory=list)
    parallelism: int = DEFAULT_PARALLELISM
