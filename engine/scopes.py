"""Where a name in a plan is read: the root plan, or one instance of a module.

Inside ``module.ci["checkout"]``, ``bitbar_project.app`` is the object
``module.ci["checkout"].bitbar_project.app``, ``var.X`` is what the caller
passed as input X, and ``module.inner.OUT`` is an output of a module it calls.
The config builder writes in what planning can know (variables, locals,
``each``); what only apply knows (an id an input or an output carries) is
resolved here, while planning and applying. Every lookup and every graph edge
of a block goes through its scope, so the planner, the executor and the
providers only ever see whole addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from labform.engine.addresses import Address, Key, ModulePath
from labform.engine.expressions.errors import ExpressionError
from labform.engine.references import Reference, contains_unknown, dig, references_in, substitute
from labform.engine.types import TypeMismatch, VarType
from labform.engine.variables import mask

Lookup = Callable[[Reference], Any]


@dataclass(eq=False)
class Scope:
    """One module instance (the root plan for ``path == ()``), as the plan's blocks read it."""

    path: ModulePath = ()
    # Where file() and a relative upload path are read from; None: the working directory (the root).
    folder: Path | None = None
    parent: Scope | None = None
    # The inputs known only after apply, as the caller wrote them (read in the parent's scope), and
    # the types the module declares them with (a value is converted once it is known, as any input is).
    late_inputs: dict[str, Any] = field(default_factory=dict)
    input_types: dict[str, VarType] = field(default_factory=dict)
    sensitive_inputs: frozenset[str] = frozenset()
    outputs: dict[str, Any] = field(default_factory=dict)
    # The module instances called here, by (module name, instance key).
    children: dict[tuple[str, Key], Scope] = field(default_factory=dict)
    # What is written here, whatever instances it makes: each block (by its address without a key)
    # and each module call, with how it repeats ("for_each", "count" or None); a call's outputs' names.
    declared: dict[Address, str | None] = field(default_factory=dict)
    module_calls: dict[str, tuple[str | None, set[str]]] = field(default_factory=dict)

    @property
    def plain(self) -> bool:
        """The root of a plan without modules: every name is read as written (the common, fast case)."""
        return not self.path and not self.children

    def absolute(self, ref: Reference) -> Reference:
        """An object reference by its whole address."""
        if not self.path or ref.address is None:
            return ref
        return replace(ref, address=ref.address.within(self.path))

    def resolver(self, lookup: Lookup) -> Lookup:
        """``lookup`` (which knows objects by whole address) as a block of this scope reads names."""
        if self.plain:
            return lookup

        def resolve(ref: Reference) -> Any:
            if ref.kind in ("resource", "data"):
                return lookup(self.absolute(ref))
            if ref.kind == "var" and self.parent is not None:
                return self.input(ref, lookup)
            if ref.kind == "module":
                return self.children[(ref.name, ref.key)].output(ref, lookup)
            return lookup(ref)

        return resolve

    def input(self, ref: Reference, lookup: Lookup) -> Any:
        """A late input's value as the caller's scope reads it, in the module's declared type once known."""
        assert self.parent is not None
        value = substitute(self.late_inputs[ref.name], self.parent.resolver(lookup), base=self.parent.folder)
        if contains_unknown(value) or ref.name not in self.input_types:
            return value
        try:
            value = self.input_types[ref.name].convert(value)
        except TypeMismatch as exc:
            raise ExpressionError("cannot evaluate", ref.text, f"input '{ref.name}': {exc}") from None
        if ref.name in self.sensitive_inputs:
            mask(value)
        return value

    def output(self, ref: Reference, lookup: Lookup) -> Any:
        """What ``ref`` (``module.NAME.OUTPUT.path``, read by the caller) reads of this instance's outputs."""
        name, *steps = ref.attribute
        value = substitute(self.outputs[name], self.resolver(lookup), base=self.folder)
        try:
            return dig(value, tuple(steps))
        except (KeyError, IndexError, ValueError, TypeError):
            raise ExpressionError("cannot evaluate", ref.text, f"output '{name}' has no {'.'.join(steps)}") from None

    def reads(self, value: Any) -> Iterator[Reference]:
        """The objects ``value`` reads, by whole address, also through module inputs and outputs:
        what a block's graph edges and its checks need."""
        for ref in references_in(value):
            if ref.kind in ("resource", "data"):
                yield self.absolute(ref)
            elif ref.kind == "var" and self.parent is not None and ref.name in self.late_inputs:
                yield from self.parent.reads(self.late_inputs[ref.name])
            elif ref.kind == "module":
                child = self.children.get((ref.name, ref.key))
                if child is not None and ref.attribute[0] in child.outputs:
                    yield from child.reads(child.outputs[ref.attribute[0]])
