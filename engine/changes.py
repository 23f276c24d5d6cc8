"""A plan is plain data: a list of changes, each with a fixed action.

    Action      before          after
    ------      ------          -----
    create      None            desired attributes (unknowns marked)
    adopt       None            the existing object's attributes (remote_id set)
    update      current attrs   desired attributes
    replace     current attrs   desired attributes (delete+create, either order)
    delete      current attrs   None
    no-op       current attrs   current attrs
    read        None            data source result

``reason`` explains the choice for people (e.g. "gone from the cloud") and
``action_reason`` says it in Terraform's words where Terraform has one (the
JSON plan's ``action_reason``); neither drives apply — only ``action`` does.

A gate that judges results (a finished run's gate, a ``perfecto_gate``) is a
``Check`` beside the changes, never a change: its verdict (pass, fail,
unknown) does not make a plan "have changes", and a failing one fails apply.
What apply still owes (a run started but not finished, a file to write again)
stays a change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from labform.engine.addresses import Address


class Action(enum.StrEnum):
    NOOP = "no-op"
    CREATE = "create"
    # Take over an existing remote object (a content-addressed upload with the
    # same bytes); nothing is created. Terraform shows the same as an import.
    ADOPT = "adopt"
    UPDATE = "update"
    DELETE_THEN_CREATE = "delete-then-create"
    CREATE_THEN_DELETE = "create-then-delete"
    DELETE = "delete"
    READ = "read"

    @property
    def is_replace(self) -> bool:
        return self in (Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)

    @property
    def words(self) -> ActionWords:
        return ACTION_WORDS[self]

    def json_actions(self) -> list[str]:
        """Terraform's JSON spelling: a replace is two actions in order, an adoption a no-op import."""
        return list(self.words.json)


@dataclass(frozen=True)
class ActionWords:
    """Everything said about an action, in one row: plan headline, apply progress, JSON."""

    symbol: str
    colour: str | None
    headline: str  # "# ADDR will be created"
    doing: str  # "ADDR: Creating..."
    done: str  # "ADDR: Creation complete"
    past: str  # "Created: ADDR, ..." in the summary of an incomplete apply
    json: tuple[str, ...]


ACTION_WORDS = {
    Action.NOOP: ActionWords(" ", None, "is up to date", "", "", "Unchanged", ("no-op",)),
    Action.CREATE: ActionWords("+", "green", "will be created", "Creating", "Creation", "Created", ("create",)),
    Action.ADOPT: ActionWords(
        "<-", "cyan", "will be adopted (same content already uploaded)", "Adopting", "Adoption", "Adopted", ("no-op",)
    ),
    Action.UPDATE: ActionWords(
        "~", "yellow", "will be updated in-place", "Modifying", "Modifications", "Changed", ("update",)
    ),
    Action.DELETE_THEN_CREATE: ActionWords(
        "-/+", "red", "must be replaced", "Replacing", "Replacement", "Replaced", ("delete", "create")
    ),
    Action.CREATE_THEN_DELETE: ActionWords(
        "+/-", "red", "must be replaced", "Replacing", "Replacement", "Replaced", ("create", "delete")
    ),
    Action.DELETE: ActionWords("-", "red", "will be destroyed", "Destroying", "Destruction", "Destroyed", ("delete",)),
    Action.READ: ActionWords("<=", "cyan", "will be read during apply", "Reading", "Read", "Read", ("read",)),
}


class ActionReason(enum.StrEnum):
    """Why an action was chosen, in Terraform's words (terraform-json's action reasons): a replace,
    a delete of an object the plan no longer declares, or a read only apply can make. labform's own
    reasons (a run still to finish, a create held back, drift) have no word here: people read those
    in ``ResourceChange.reason``."""

    REPLACE_BECAUSE_TAINTED = "replace_because_tainted"  # the last apply left the object unable to converge
    REPLACE_BY_REQUEST = "replace_by_request"  # --replace named it
    REPLACE_BECAUSE_CANNOT_UPDATE = "replace_because_cannot_update"  # an argument that cannot change in place
    DELETE_BECAUSE_NO_RESOURCE_CONFIG = "delete_because_no_resource_config"  # its block is gone
    DELETE_BECAUSE_NO_MODULE = "delete_because_no_module"  # its module instance is gone
    DELETE_BECAUSE_WRONG_REPETITION = "delete_because_wrong_repetition"  # key kind no longer the block's
    DELETE_BECAUSE_COUNT_INDEX = "delete_because_count_index"  # position beyond the block's count
    DELETE_BECAUSE_EACH_KEY = "delete_because_each_key"  # key no longer in the block's for_each
    DELETE_BECAUSE_NO_MOVE_TARGET = "delete_because_no_move_target"  # moved: to an address the plan lacks
    READ_BECAUSE_CONFIG_UNKNOWN = "read_because_config_unknown"  # its arguments wait for apply's values


# The marks ``requires_replace`` carries when no argument forces the replace, as the plan shows them.
REPLACE_MARKS = {
    ActionReason.REPLACE_BY_REQUEST: "(replace requested)",
    ActionReason.REPLACE_BECAUSE_TAINTED: "(tainted)",
}


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
    sensitive: frozenset[str] = frozenset()
    reason: str = ""
    remote_id: str | None = None
    # What the provider says creating it costs (e.g. "~ 12 credits").
    note: str | None = None
    # ``reason`` in Terraform's words, for the JSON plan; None where Terraform has none.
    action_reason: ActionReason | None = None


class CheckStatus(enum.StrEnum):
    """Terraform's check statuses. labform judges pass, fail or unknown; a judgement that cannot be
    made (the cloud cannot be read) fails the plan instead, so ``error`` is never reported."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    """A gate's verdict: ``why`` is how it missed its bar (fail) or what it waits for (unknown)."""

    address: Address
    status: CheckStatus
    why: str = ""

    def line(self) -> str:
        """``perfecto_gate.build: passed`` as the plan's and apply's check list shows it."""
        word = {CheckStatus.PASS: "passed", CheckStatus.FAIL: "failed", CheckStatus.UNKNOWN: "unknown"}
        detail = f" ({self.why})" if self.why else ""
        return f"{self.address}: {word.get(self.status, self.status.value)}{detail}"


def stays_red(address: Address, ephemeral: bool) -> str:
    """What turns a missed gate green: a run's is judged on the same results until it runs again;
    a gate without a remote object reads its results again on every plan."""
    if ephemeral:
        return "it fails every apply until the results it reads meet the bar"
    return f"it stays failed on every apply until its triggers change or you run 'labform apply --replace {address}'"


@dataclass
class Notice:
    """Something the user should know that is not a change (e.g. an object to import)."""

    address: Address
    message: str


@dataclass(frozen=True)
class Unresolved:
    """A create whose outcome labform cannot establish (its answer lost, nothing can look it up):
    every apply refuses until ``labform state resolve`` says whether it made its object."""

    address: Address
    time: float  # when the create was announced (epoch seconds)
    why: str

    @property
    def since(self) -> str:
        return datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def line(self) -> str:
        """``? ADDR: outcome unknown since TIME``, as the plan and the refusal show it."""
        return f"? {self.address}: outcome unknown since {self.since}"

    def commands(self, indent: str = "") -> str:
        """The two ways out, as the user types them."""
        return resolve_lines(self.address, indent)


def resolve_commands(address: Address) -> dict[str, str]:
    """What to run when a create's outcome is unknown: adopt what it made, or forget the intent."""
    return {
        "created": f"labform state resolve {address} --id ID",
        "not_created": f"labform state resolve {address} --not-created",
    }


def resolve_lines(address: Address, indent: str = "") -> str:
    """The two commands, one a line, each with the case it is for."""
    commands = resolve_commands(address)
    return (
        f"{indent}it was made (adopt it):      {commands['created']}\n"
        f"{indent}it was not made (create it): {commands['not_created']}"
    )


NO_CHANGES = "No changes. Your cloud matches the plan."


@dataclass
class Plan:
    changes: list[ResourceChange]
    state_serial: int
    state_lineage: str
    file_hashes: dict[str, str]
    notices: list[Notice] = field(default_factory=list)
    destroy: bool = False
    refresh_only: bool = False
    # Creates of earlier applies whose outcome is unknown: apply refuses until they are resolved.
    unresolved: list[Unresolved] = field(default_factory=list)
    # Each gate's verdict as planned: judged on what refresh read, or on state with -refresh=false.
    checks: list[Check] = field(default_factory=list)
    refreshed: bool = True
    # ``moved:`` carried state from the first address to the second; ``removed:`` (destroy: false)
    # lets go of these objects: apply writes both into state and calls no cloud.
    moved: list[tuple[Address, Address]] = field(default_factory=list)
    forgotten: list[Address] = field(default_factory=list)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == CheckStatus.FAIL]

    def counts(self) -> dict[str, int]:
        adopt = sum(1 for c in self.changes if c.action == Action.ADOPT)
        add = sum(1 for c in self.changes if c.action == Action.CREATE or c.action.is_replace)
        change = sum(1 for c in self.changes if c.action == Action.UPDATE)
        destroy = sum(1 for c in self.changes if c.action == Action.DELETE or c.action.is_replace)
        return {"adopt": adopt, "add": add, "change": change, "destroy": destroy, "forget": len(self.forgotten)}

    def counts_phrase(self) -> str:
        """``1 to add, 0 to change, 0 to destroy`` (adoptions first when any): the plan's one summary line."""
        counts = self.counts()
        adopting = f"{counts['adopt']} to adopt, " if counts["adopt"] else ""
        forgetting = f", {counts['forget']} to forget" if counts["forget"] else ""
        return f"{adopting}{counts['add']} to add, {counts['change']} to change, {counts['destroy']} to destroy{forgetting}"

    @property
    def has_changes(self) -> bool:
        moving = bool(self.moved or self.forgotten)
        return moving or any(c.action not in (Action.NOOP, Action.READ) for c in self.changes)

    def change_for(self, address: Address) -> ResourceChange | None:
        return next((c for c in self.changes if c.address == address), None)
