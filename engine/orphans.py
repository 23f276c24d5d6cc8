"""Why an object in state that the plan no longer declares is deleted, in Terraform's words.

Terraform asks, in order: is the block still written (in the module the
address names)? is the module instance it sits in still called? does its key
fit how the block repeats now (a position for ``count``, a name for
``for_each``, none for neither)? and is that key still one the block makes?
The config's scopes answer: each keeps what is written in it, whatever
instances that makes (a block with ``count: 0`` is still written).
"""

from __future__ import annotations

from labform.engine.addresses import Address
from labform.engine.changes import ActionReason
from labform.engine.moves import Move
from labform.engine.scopes import Scope


def delete_reason(address: Address, root: Scope, moves: list[Move]) -> ActionReason | None:
    """The reason for deleting ``address``; None when none of Terraform's fits."""
    static = _scopes_at(root, address)
    if static is not None and not any(_bare(address) in map(_bare, scope.declared) for scope in static):
        moved_here = any(move.target.contains(address) for move in moves)
        return (
            ActionReason.DELETE_BECAUSE_NO_MOVE_TARGET if moved_here else ActionReason.DELETE_BECAUSE_NO_RESOURCE_CONFIG
        )
    scope = root
    for step in address.module:
        child = scope.children.get(step)
        if child is None:
            return ActionReason.DELETE_BECAUSE_NO_MODULE
        scope = child
    repeats = scope.declared.get(address.block)
    key = address.key
    if (key is None) != (repeats is None) or (key is not None and repeats != _repetition(key)):
        return ActionReason.DELETE_BECAUSE_WRONG_REPETITION
    if key is None:
        return None
    return ActionReason.DELETE_BECAUSE_COUNT_INDEX if repeats == "count" else ActionReason.DELETE_BECAUSE_EACH_KEY


def _scopes_at(root: Scope, address: Address) -> list[Scope] | None:
    """Every instance of the module the address names (by module names, keys aside); [] when a call
    on its path is no longer written; None when the call is written but makes no instance now, so
    what its module declares is not known here."""
    scopes = [root]
    for name, _ in address.module:
        if not any(name in scope.module_calls for scope in scopes):
            return []
        scopes = [child for scope in scopes for (called, _), child in scope.children.items() if called == name]
        if not scopes:
            return None
    return scopes


def _bare(address: Address) -> tuple[str, str, bool]:
    return (address.type, address.name, address.is_data)


def _repetition(key: int | str) -> str:
    return "count" if isinstance(key, int) else "for_each"
