"""``pick: {count, from, prefer}``: "the first N of these devices that are available now".

A device is picked only where the cloud reports whether it is free: a cloud's
``Pick`` subclass lists its pool (``candidates``) with why each device is busy,
or says why it cannot (``unsupported``: every pick is then a validate error at
its field, naming what the doc's device object lacks).

``from`` is a list of device ids; a filter over the device objects is a CEL
expression in ``${...}`` over a devices data source (evaluated by the plan's
expression engine, like every other value), e.g.
``'${data.wetest_devices.all.devices.filter(d, d.version == "14").map(d, d.id)}'``.
``prefer`` puts some ids first; the rest keep the pool's order.

The plan picks (``outlook``: a note naming the picked and the skipped devices,
or a problem when the pool is smaller than ``count`` or too few are free now);
the run's start picks again by the same rule (``applied``), since a device may
have been taken in between, and what it submitted is recorded in state
(``devices`` and ``picked``): a run that exists is never picked for again.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator, model_validator

from labform.providers.base import Arguments, Attrs, Context, known
from labform.providers.errors import ProviderError


@dataclass(frozen=True)
class Candidate:
    """A device of the pool: its id, how the plan names it, and why it is not free now (None: free)."""

    id: int
    label: str
    busy: str | None = None


@dataclass(frozen=True)
class Picked:
    """The outcome of one pick: the devices chosen, in order, and each one passed over with why."""

    chosen: list[Candidate]
    skipped: list[Candidate]  # not free now
    spare: list[Candidate]  # free, but count was reached before them
    count: int
    pool: int

    def short(self) -> int:
        return self.count - len(self.chosen)

    def text(self) -> str:
        chosen = ", ".join(c.label for c in self.chosen) or "none"
        skipped = "; skipped: " + ", ".join(f"{c.label} ({c.busy})" for c in self.skipped) if self.skipped else ""
        spare = "; not needed: " + ", ".join(c.label for c in self.spare) if self.spare else ""
        return f"picks {len(self.chosen)} of {self.count} from a pool of {self.pool} available now: {chosen}{skipped}{spare}"

    def record(self) -> Attrs:
        """What state keeps of the pick (ids are strings: they are JSON object keys there)."""
        return {"chosen": [c.id for c in self.chosen], "skipped": {str(c.id): c.busy for c in self.skipped}}


# ``from`` is a Python keyword, so the one field named so is declared here, first: ``count`` checks against it.
_FROM: dict[str, Any] = {
    "from": (
        list[int] | None,
        Field(
            None,
            min_length=1,
            description="Device ids to pick from (a CEL filter: ${data...devices.filter(d, ...).map(d, d.id)}); "
            "unset: every device of the cloud.",
        ),
    )
}
if TYPE_CHECKING:
    _Pool = BaseModel
else:
    _Pool = create_model("_Pool", __config__=ConfigDict(extra="forbid"), **_FROM)


def pool_of(pick: Any) -> list[int] | None:
    """The ids a pick's ``from`` lists (None: the whole cloud)."""
    return getattr(pick, "from")


class Pick(_Pool):
    """``pick:`` on a device group or a run's targets. A cloud subclass sets ``unsupported`` (why
    it cannot: a validate error) or implements ``candidates``."""

    cloud: ClassVar[str] = "this cloud"
    unsupported: ClassVar[str | None] = None
    # The arguments its pool is read by (a cloud id): while one is known only after apply, so is the pick.
    needs: ClassVar[tuple[str, ...]] = ()

    count: int = Field(ge=1, description="How many devices to pick: the first this many that are free now.")
    prefer: list[int] = Field(
        default_factory=list, description="Device ids tried first, in this order; the rest keep the pool's order."
    )

    @model_validator(mode="before")
    @classmethod
    def _the_cloud_can(cls, value: Any) -> Any:
        if cls.unsupported is not None:
            raise ValueError(f"{cls.cloud} cannot pick devices: {cls.unsupported}")
        return value

    @field_validator("count")
    @classmethod
    def _within_the_pool(cls, count: int, info: ValidationInfo) -> int:
        pool = info.data.get("from")
        if pool is not None and count > len(set(pool)):
            raise ValueError(f"pick.count {count} is larger than the pool: 'from' lists {len(set(pool))} devices")
        return count

    @model_validator(mode="after")
    def _preferred_in_the_pool(self) -> Pick:
        pool = pool_of(self)
        outside = [i for i in self.prefer if pool is not None and i not in pool]
        if outside:
            raise ValueError(f"prefer names {', '.join(map(str, outside))}, which 'from' does not list")
        return self

    @classmethod
    def candidates(cls, ctx: Context, desired: Attrs) -> list[Candidate]:
        """Every device of the cloud the run could be given, in the cloud's order, each with why it is busy."""
        raise NotImplementedError


def pick_type(args: type[Arguments]) -> type[Pick] | None:
    """The ``Pick`` subclass a type's ``pick`` argument takes, or None where it has none."""
    field = args.model_fields.get("pick")
    if field is None:
        return None
    kinds = typing.get_args(field.annotation) if isinstance(field.annotation, types.UnionType) else (field.annotation,)
    return next((kind for kind in kinds if isinstance(kind, type) and issubclass(kind, Pick)), None)


Problem = tuple[tuple[str, ...], str]  # (the field it is about, under the block; why)


def choose(pick: Pick, devices: list[Candidate]) -> Picked | Problem:
    """The pick made among ``devices`` (the cloud's), or why it cannot be: ids the cloud lacks, a pool
    smaller than ``count``, too few free now."""
    by_id = {c.id: c for c in devices}
    wanted = pool_of(pick)
    missing = [i for i in wanted or [] if i not in by_id]
    if missing:
        return ("pick", "from"), f"the cloud has no device {', '.join(map(str, missing))} (pick.from)"
    pool = [by_id[i] for i in dict.fromkeys(wanted)] if wanted else devices
    if pick.count > len(pool):
        return ("pick", "count"), f"pick.count {pick.count} is larger than the pool: the cloud has {len(pool)} devices"
    first = [by_id[i] for i in pick.prefer if i in by_id]
    ordered = list({c.id: c for c in first + pool}.values())
    free = [c for c in ordered if c.busy is None]
    busy = [c for c in ordered if c.busy is not None]
    picked = Picked(free[: pick.count], busy, free[pick.count :], pick.count, len(pool))
    if picked.short():
        return (
            "pick",
        ), f"only {len(picked.chosen)} of the {pick.count} devices to pick are free now ({picked.text()})"
    return picked


def _made(kind: type[Pick], ctx: Context, desired: Attrs) -> Picked | Problem:
    """The pick as the block asks for it (read through its model: while other arguments are unknown
    the plan holds it unread), made among the cloud's devices now."""
    return choose(kind.model_validate(desired["pick"]), kind.candidates(ctx, desired))


def outlook(args: type[Arguments], ctx: Context, desired: Attrs) -> tuple[str | None, Problem | None]:
    """(note, problem) of the plan's pick: which devices it takes and which it passes over, or why it
    cannot; (None, None) without a pick."""
    kind = pick_type(args)
    if kind is None or not desired.get("pick"):
        return None, None
    if not known([desired["pick"], *(desired.get(name) for name in kind.needs)]):
        return "devices picked at apply (the pool is known only then)", None
    found = _made(kind, ctx, desired)
    return (found.text(), None) if isinstance(found, Picked) else (None, found)


def applied(args: type[Arguments], ctx: Context, desired: Attrs, cloud: str) -> Attrs:
    """``desired`` with the devices picked now as its ``devices`` (and the pick as ``picked``), for the
    run's start; unchanged without a pick. Too few free now: a ProviderError, and nothing is started."""
    kind = pick_type(args)
    if kind is None or not desired.get("pick"):
        return desired
    found = _made(kind, ctx, desired)
    if not isinstance(found, Picked):
        raise ProviderError(cloud, "pick devices", None, f"{found[1]}; nothing was started")
    ctx.progress(found.text())
    return {**desired, "devices": [c.id for c in found.chosen], "picked": found.record()}


def conflicts(desired: Attrs, chosen_by_hand: tuple[str, ...]) -> list[tuple[str, str]]:
    """A pick chooses the devices: the arguments that would choose them too are (field, message) problems."""
    if not desired.get("pick"):
        return []
    return [
        (name, f"{name} cannot be set with pick (pick chooses the devices)")
        for name in chosen_by_hand
        if desired.get(name) is not None
    ]
