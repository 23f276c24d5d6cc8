"""What a running command reports, as data, and the messages a ``-json`` stream spells it in.

The executor and the runner report events; ``ChangeLog`` (engine/ci.py) prints each
as its ``message``, a line for people, or, for ``apply -json`` and ``destroy -json``,
as messages of Terraform's machine-readable UI, built by the functions below
(docs/json-ui.md):

    change_started   change_finished   change_failed   change_skipped
    progress         (a run's or an upload's progress; ``address`` says whose, none: the command's own)
    recovered        (an interrupted create found by its natural key and adopted)

Every message has ``@level``, ``@message``, ``@module``, ``@timestamp`` and ``type``;
a resource is Terraform's resource object (``resource_object``); labform's own
facts are further types and fields, which Terraform's readers ignore or show by
their ``@message``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from labform.engine.addresses import Address, format_key
from labform.engine.changes import Action

# The machine-readable UI version whose messages the stream follows (Terraform 1.5 and later write
# "1.2"); the first message says it, so a reader knows which stream it reads.
UI_VERSION = "1.2"
MODULE = "labform.ui"

# Terraform's action words in the stream: an adoption is an import, either replace order a replace.
UI_ACTIONS = {
    Action.NOOP: "noop",
    Action.CREATE: "create",
    Action.ADOPT: "import",
    Action.UPDATE: "update",
    Action.DELETE_THEN_CREATE: "replace",
    Action.CREATE_THEN_DELETE: "replace",
    Action.DELETE: "delete",
    Action.READ: "read",
}


@dataclass(frozen=True)
class Event:
    kind: str
    message: str
    address: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Reporter = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The reporter of a caller that wants no progress (tests, library use)."""


def timestamp() -> str:
    """Now, as Terraform stamps a message: RFC 3339, local time with its offset, microseconds."""
    return datetime.now().astimezone().isoformat(timespec="microseconds")


def message(kind: str, text: str, level: str = "info", **fields: Any) -> dict[str, Any]:
    """One line of the stream: the keys every message has, then its own."""
    return {"@level": level, "@message": text, "@module": MODULE, "@timestamp": timestamp(), "type": kind, **fields}


def version_message(version: str) -> dict[str, Any]:
    """The stream's first message. ``terraform`` carries labform's version, as ``plan -json`` does,
    for readers that require it; ``labform`` is the authoritative one."""
    return message("version", f"labform {version}", terraform=version, labform=version, ui=UI_VERSION)


def module_address(address: Address) -> str:
    """The module part of an address, ``module.ci["k"].module.leaf``; empty in the root module."""
    return ".".join(f"module.{name}{format_key(key)}" for name, key in address.module)


def resource_object(address: Address) -> dict[str, Any]:
    """Terraform's resource object: the address whole and taken apart, linking every message about it."""
    module = module_address(address)
    return {
        "addr": str(address),
        "module": module,
        "resource": str(address).removeprefix(f"{module}.") if module else str(address),
        "implied_provider": address.provider,
        "resource_type": address.type,
        "resource_name": address.name,
        "resource_key": address.key,
    }


def ui_action(action: Action) -> str:
    return UI_ACTIONS[action]
