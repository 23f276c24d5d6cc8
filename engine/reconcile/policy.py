"""Policy rules: named CEL expressions over the plan's JSON, each of which must hold.

The same rules decide whether a reconcile under ``policy: {mode: auto}`` may apply and
fail ``labform plan -policy FILE`` in CI, with the rule's name:

    rules:
      no_deletes: 'resource_changes.all(c, !("delete" in c.change.actions))'
      small: 'size(resource_changes.filter(c, c.change.actions != ["no-op"])) <= 10'

A rule reads the top-level keys of the JSON plan (docs/plan-json.md: ``resource_changes``,
``resource_drift``, ``summary``...) as variables. Rules are compiled by the library plan
expressions use (``engine/expressions/library.py``) when the file is read, so a syntax
error is reported at the rule's line before anything is planned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

from labform.engine.arguments import plain_message
from labform.engine.errors import ConfigError, ConfigErrors, LabformError
from labform.engine.expressions import library
from labform.engine.loader import KeyPath, Positions, _decode, _display, _document, _read

if TYPE_CHECKING:
    from labform.engine.runner import PlanResult

RuleName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")]
Rules = Annotated[dict[RuleName, Annotated[str, StringConstraints(min_length=1)]], Field()]


class PolicyViolation(LabformError):
    """Rules that did not hold, by name."""

    def __init__(self, broken: list[str]):
        self.broken = broken
        names = ", ".join(broken)
        super().__init__(f"the plan breaks the policy: rule{'s' if len(broken) > 1 else ''} {names} did not hold")


@dataclass(frozen=True)
class Verdict:
    held: list[str]
    broken: list[str]

    @property
    def ok(self) -> bool:
        return not self.broken


def compile_rules(rules: dict[str, str], positions: Positions, path: KeyPath) -> list[ConfigError]:
    """Each rule the library cannot compile, at its line."""
    errors = []
    for name, source in rules.items():
        try:
            library.compiled(source)
        except library.CompileFailure as failure:
            errors.append(
                ConfigError(
                    f"rule '{name}' is not CEL at column {failure.offset + 1}: {failure.reason}",
                    positions.of((*path, name)),
                )
            )
    return errors


def judge(rules: dict[str, str], plan_document: dict[str, Any]) -> Verdict:
    """Which rules hold for the plan (its JSON view, as ``plan -json`` prints it)."""
    context = json.loads(json.dumps(plan_document, default=str))  # plain JSON values, as a tool would read them
    held: list[str] = []
    broken: list[str] = []
    for name, source in rules.items():
        try:
            value = library.compiled(source).execute(context)
        except Exception as exc:  # the library raises builtin exception types of every kind
            raise LabformError(f"policy rule '{name}' cannot be evaluated: {library.reason(exc)}") from None
        if not isinstance(value, bool):
            raise LabformError(f"policy rule '{name}' must be true or false, not {value!r}")
        (held if value else broken).append(name)
    return Verdict(held, broken)


def plan_document(result: PlanResult) -> dict[str, Any]:
    """The plan as rules read it: exactly what ``plan -json`` prints."""
    from labform.engine import render

    return render.plan_to_dict(result.plan, result.drift, result.config, result.state)


def enforce(rules: dict[str, str], result: PlanResult) -> None:
    """``plan -policy FILE``: every rule holds, or PolicyViolation naming those that did not."""
    verdict = judge(rules, plan_document(result))
    if not verdict.ok:
        raise PolicyViolation(verdict.broken)


def load_rules(file: Path) -> dict[str, str]:
    """A policy file (``rules:`` of name: CEL), every mistake at its file:line:col."""
    shown = _display(file)
    positions = Positions()
    document = _document(_decode(_read(file, shown), shown), shown, positions)
    if not isinstance(document, dict) or set(document) != {"rules"}:
        extra = sorted(set(document or {}) - {"rules"})
        where = positions.of((extra[0],)) if extra else None
        raise ConfigError(
            f"a policy file holds one key, rules: (a mapping of rule names to CEL){f'; unknown {extra[0]!r}' if extra else ''}",
            where,
        )
    try:
        rules: dict[str, str] = TypeAdapter(Rules).validate_python(document["rules"])
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ("rules", *error["loc"])
        raise ConfigError(plain_message(error), positions.of(loc), ".".join(map(str, loc))) from None
    errors = compile_rules(rules, positions, ("rules",))
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return rules
