"""``budget: {max_credits: N}`` or ``{max_minutes: N}``: a run the plan estimates over it is not started.

Each cloud budgets in the one unit it states: credits where it prices devices,
minutes where it caps a run's runtime. A cloud's ``Budget`` subclass names its
unit and estimates one attempt (``per_attempt``); a cloud with neither sets no
unit, and any budget there is a validate error saying so, as is the other unit.

The estimate counts every attempt a ``retry`` may take (``attempts``, the
first included: providers/runs.py RetryPolicy), each at the full price of the
first, since a re-run may repeat every unit. The plan fails before apply when
it is over (``outlook``); where the estimate needs a value only apply will
know (the id of a project the plan creates), it fails too, saying which: a
budget that cannot be checked is not kept.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from labform.providers.base import Arguments, Attrs, Context, known
from labform.providers.picking import Problem

Unit = Literal["credits", "minutes"]


@dataclass(frozen=True)
class Estimate:
    """What one attempt costs at most, in the budget's unit, and how that figure was reached."""

    amount: float
    basis: str


class Budget(BaseModel):
    """A cloud subclass sets ``unit`` and ``measures`` (what it counts, for messages) and implements ``per_attempt``."""

    model_config = ConfigDict(extra="forbid")
    cloud: ClassVar[str] = "this cloud"
    unit: ClassVar[Unit | None] = None
    measures: ClassVar[str] = "neither prices devices nor caps a run's runtime"

    max_credits: float | None = Field(None, gt=0, description="Most credits the run may cost, every retry included.")
    max_minutes: float | None = Field(
        None, gt=0, description="Most minutes the run may take by its runtime caps, every retry included."
    )

    @model_validator(mode="after")
    def _in_the_cloud_unit(self) -> Budget:
        given = [unit for unit in typing.get_args(Unit) if getattr(self, f"max_{unit}") is not None]
        if self.unit is None:
            raise ValueError(f"{self.cloud} {self.measures}, so a budget cannot be checked there")
        if not given:
            raise ValueError(f"set max_{self.unit} ({self.cloud} {self.measures})")
        if given != [self.unit]:
            wrong = next(unit for unit in given if unit != self.unit)
            raise ValueError(
                f"{self.cloud} budgets are in {self.unit} ({self.measures}): write max_{self.unit}, not max_{wrong}"
            )
        return self

    @classmethod
    def per_attempt(cls, ctx: Context, desired: Attrs) -> Estimate | str:
        """One attempt's most, or (a str) what the estimate waits for."""
        raise NotImplementedError


def budget_type(args: type[Arguments]) -> type[Budget] | None:
    """The ``Budget`` subclass a type's ``budget`` argument takes, or None where it has none."""
    field = args.model_fields.get("budget")
    if field is None:
        return None
    kinds = typing.get_args(field.annotation) if isinstance(field.annotation, types.UnionType) else (field.annotation,)
    return next((kind for kind in kinds if isinstance(kind, type) and issubclass(kind, Budget)), None)


def attempts(desired: Attrs) -> int:
    """Attempts the run may take: its retry's total, else one."""
    retry: Any = desired.get("retry") or {}
    return int(retry.get("attempts") or 1)


def outlook(args: type[Arguments], ctx: Context, desired: Attrs) -> tuple[str | None, Problem | None]:
    """(note, problem): the estimate against the budget, or why it is over or cannot be known; (None, None) without one."""
    kind = budget_type(args)
    budget = desired.get("budget")
    if kind is None or not budget or kind.unit is None:
        return None, None
    if not known([budget, desired.get("retry")]):
        return None, (
            ("budget",),
            "the budget cannot be checked before apply: it, or the retry, is known only after apply",
        )
    cap = budget[f"max_{kind.unit}"]
    one = kind.per_attempt(ctx, desired)
    if isinstance(one, str):
        return None, (("budget",), f"the budget cannot be checked before apply: {one}")
    times = attempts(desired)
    total = one.amount * times
    figure = f"{total:g} {kind.unit}" + (f" ({times} attempts × {one.amount:g})" if times > 1 else "")
    if total > cap:
        return None, (("budget",), f"estimated at most {figure}, over the budget of {cap:g} {kind.unit}: {one.basis}")
    return f"budget: at most {figure} of {cap:g} {kind.unit} ({one.basis})", None
