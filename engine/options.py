"""What a plan or apply was asked to do (the CLI's flags, as plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from labform.engine.addresses import Address, ModuleAddress

# Changes applied at once, as in Terraform. HTTP calls wait on the network, not the CPU.
DEFAULT_PARALLELISM = 10


@dataclass
class PlanOptions:
    destroy: bool = False
    refresh_only: bool = False
    # -refresh=false: plan against state as recorded, reading no object (checks show their last verdict).
    refresh: bool = True
    targets: list[Address | ModuleAddress] = field(default_factory=list)  # a module's: each object in it
    replace: list[Address] = field(default_factory=list)
    # None: not given; a saved plan's own, else DEFAULT_PARALLELISM (``workers``).
    parallelism: int | None = None

    def workers(self) -> int:
        """Changes applied, and reads made, at once."""
        return self.parallelism or DEFAULT_PARALLELISM
