"""A plan is plain data: a list of changes, each with a fixed action.

    Action      before          after
    ------      ------          -----
    create      None            desired attributes (unknowns marked)
    update      current attrs   desired attributes
    replace     current attrs   desired attributes (delete+create, either order)
    delete      current attrs   None
    no-op       current attrs   current attrs
    read        None            data source result

``reason`` explains the choice for people (e.g. "gone from the cloud"); it
never drives apply — only ``action`` does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from engine.addresses import Address


class Action(str, enum.Enum):
    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    DELETE_THEN_CREATE = "delete-then-create"
    CREATE_THEN_DELETE = "create-then-delete"
    DELETE = "delete"
    READ = "read"

    @property
    def is_replace(self) -> bool:
        return self in (Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)

    def json_actions(self) -> list[str]:
        """Terraform's JSON spelling: a replace is two actions in order."""
        return {
            Action.NOOP: ["no-op"],
            Action.CREATE: ["create"],
            Action.UPDATE: ["update"],
            Action.DELETE_THEN_CREATE: ["delete", "create"],
            Action.CREATE_THEN_DELETE: ["create", "delete"],
            Action.DELETE: ["delete"],
            Action.READ: ["read"],
        }[self]


@dataclass
class ResourceChange:
    address: Address
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    # Attributes of ``after`` that apply will fill in.
    after_unknown: set[str] = field(default_factory=set)
    # Attributes whose change forces the replacement (shown as "# forces replacement").
    requires_replace: list[str] = field(default_factory=list)
    sensitive: set[str] = field(default_factory=set)
    reason: str = ""
    remote_id: str | None = None
    # What the provider says creating it costs (e.g. "~ 12 credits").
    note: str | None = None


@dataclass
class Notice:
    """Something the user should know that is not a change (e.g. an object to import)."""

    address: Address
    message: str


@dataclass
class Plan:
    changes: list[ResourceChange]
    state_serial: int
    state_lineage: str
    file_hashes: dict[str, str]
    outputs: dict[str, Any] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    destroy: bool = False
    refresh_only: bool = False

    def counts(self) -> dict[str, int]:
        add = sum(1 for c in self.changes if c.action in (Action.CREATE,) or c.action.is_replace)
        change = sum(1 for c in self.changes if c.action == Action.UPDATE)
        destroy = sum(1 for c in self.changes if c.action == Action.DELETE or c.action.is_replace)
        return {"add": add, "change": change, "destroy": destroy}

    @property
    def has_changes(self) -> bool:
        return any(c.action not in (Action.NOOP, Action.READ) for c in self.changes)

    def change_for(self, address: Address) -> ResourceChange | None:
        return next((c for c in self.changes if c.address == address), None)
