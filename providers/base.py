"""The provider interface: what a cloud must answer so the engine can plan and apply.

    Provider                     one cloud: its settings model and its types
    ├── ResourceType             one kind of remote object (read/list/create/update/delete/import_)
    └── DataSource               a read-only lookup (read)

The provider proposes, the engine decides: a ResourceType never chooses
between create, update and replace; it does exactly the call it is given.

Arguments are declared as a pydantic model (``Args``). Per-field metadata,
set with :func:`arg`, tells the engine how to diff:

- ``force_new``: a change replaces the object (the API cannot update it)
- ``sensitive``: never printed or stored; state keeps only a hash
- ``unordered``: a list compared as a set (e.g. device group membership)
- ``local``: known only to the plan (a file path, a wait policy); never read remotely

Attributes the cloud fills in (``id`` and others) are listed in ``computed``.

A run (a type whose objects are test runs or gates) answers ``facts``: its
result as the CI summary shows it, read from its recorded attributes by the
type that wrote them. Every other type answers None, which is how the engine
tells runs apart. A type with a gate also answers ``verdict``: whether the
results it judges meet the bar, which the engine shows as a *check* (pass,
fail, unknown), never as a change.

Adding a resource type::

    class Widget(ResourceType):
        type_name = "cloud_widget"
        Args = WidgetArgs
        computed = ("id",)
        natural_key = ("name",)
        def read(self, ctx, id, prior): ...
"""

from __future__ import annotations

import builtins
import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict

from labform.providers.limits import Limits
from labform.providers.mapping import listed_items
from labform.providers.polling import PositiveDuration, StatusBoard
from labform.providers.reads import Listings

Attrs = dict[str, Any]


@dataclass(frozen=True)
class RunFacts:
    """A run's result as far as its recorded attributes tell; None where the cloud does not say.

    ``gate``: True when the run met its gate, False when it missed it, None when it has none."""

    devices: int | None = None
    passed: int | None = None
    failed: int | None = None
    flaky: int | None = None
    credits: float | None = None
    finished: bool | None = None
    gate: bool | None = None


@dataclass(frozen=True)
class Verdict:
    """A gate's judgement of the results it reads: ``pass``, ``fail`` (``why`` says how it missed the
    bar) or ``unknown`` (``why`` says what it waits for: a run not finished, a report not read yet)."""

    status: Literal["pass", "fail", "unknown"]
    why: str = ""


def arg(
    default: Any = ...,
    *,
    force_new: bool = False,
    sensitive: bool = False,
    unordered: bool = False,
    local: bool = False,
    local_file: bool = False,
    description: str = "",
    **constraints: Any,
) -> Any:
    """A pydantic Field carrying labform's diff metadata. ``local_file``: a path on this machine (so
    ``local`` too) that a module's block, written relative, reads from the module's folder."""
    flags = (
        ("force_new", force_new),
        ("sensitive", sensitive),
        ("unordered", unordered),
        ("local", local or local_file),
        ("local_file", local_file),
    )
    extra: JsonDict = {key: True for key, on in flags if on}
    if "default_factory" not in constraints:
        constraints["default"] = default
    return Field(description=description or None, json_schema_extra=extra or None, **constraints)


def known(value: Any) -> bool:
    """Plain data all the way down: no placeholder for a value known only after apply."""
    if isinstance(value, dict):
        return all(known(v) for v in value.values())
    if isinstance(value, list):
        return all(known(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


class Arguments(BaseModel):
    """Base for every ``Args`` model: unknown fields are errors. A model's validator is built
    when it first validates (``defer_build``): a command pays only for the types its plan uses."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    # Both are asked for every argument of every block a plan diffs, and models never change:
    # answered once per class (a tenth of a 5,000-resource plan otherwise).
    @classmethod
    @functools.cache
    def flag(cls, name: str, key: str) -> bool:
        extra = cls.model_fields[name].json_schema_extra
        return bool(isinstance(extra, dict) and extra.get(key))

    @classmethod
    @functools.cache
    def fields_with(cls, key: str) -> frozenset[str]:
        return frozenset(name for name in cls.model_fields if cls.flag(name, key))

    @classmethod
    @functools.cache
    def scalar_kinds(cls) -> dict[str, type]:
        """The arguments declared as exactly a string, a whole number, a number or a boolean: the
        JSON type a listing's item must give them (a union or a model says too little to check)."""
        scalars = (str, int, float, bool)
        return {
            name: kind
            for name, field in cls.model_fields.items()
            if (kind := field.annotation) in scalars and isinstance(kind, type)
        }


class HttpSettings(Arguments):
    """The settings every cloud's provider block takes for its HTTP calls (each ``Settings`` derives
    from this): how long and how much one answer may take, so a slow or hostile server cannot hold
    labform (and the state lock). Defaults: 30s, 2m, 32 MiB, 60s and 1 KiB/s for downloads and uploads alike."""

    timeout: PositiveDuration = arg(
        30.0, description="Seconds each attempt's answer may take to start, and then to arrive whole."
    )
    operation_timeout: PositiveDuration = arg(
        Limits.operation_timeout, description="Longest one call may take, all its retries and pauses included."
    )
    max_answer_size: int = arg(
        Limits.max_answer_size,
        gt=0,
        description="Bytes an answer read whole (JSON, a small file) may hold; a larger one is dropped unread.",
    )
    download_idle_timeout: PositiveDuration = arg(
        Limits.download_idle_timeout,
        description="A download fails when nothing arrives for this long (a download has no overall deadline).",
    )
    download_min_rate: float = arg(
        Limits.download_min_rate,
        ge=0,
        description="Bytes per second a download must average over each download_idle_timeout.",
    )
    upload_idle_timeout: PositiveDuration = arg(
        Limits.upload_idle_timeout,
        description="An upload fails when the server takes nothing for this long (an upload has no overall deadline).",
    )
    upload_min_rate: float = arg(
        Limits.upload_min_rate,
        ge=0,
        description="Bytes per second an upload must average over each upload_idle_timeout.",
    )

    def limits(self) -> Limits:
        return Limits(
            self.operation_timeout,
            self.max_answer_size,
            self.download_idle_timeout,
            self.download_min_rate,
            self.upload_idle_timeout,
            self.upload_min_rate,
            tuple(sorted(self.fields_with("sensitive"))),
        )


@dataclass
class Context:
    """What a resource call gets: the configured client plus hooks for progress and recording.

    ``record(attrs)`` is for a create that takes several remote steps (a run
    started, then waited on; a group made, then filled): call it as soon as the
    object exists, so a failure, a kill or a timeout in a later step can never
    lead to creating it twice. ``attrs`` must hold the ``id``.
    """

    client: Any
    settings: Any
    progress: Callable[[str], None] = lambda message: None
    record: Callable[[Attrs], None] = lambda attrs: None
    # The plan address being applied ("bitbar_run.nightly"), for names derived from it.
    address: str = ""
    # Set when the apply is interrupted: long waits stop (the remote work goes on).
    stop: threading.Event = field(default_factory=threading.Event)
    # The command's listings, each read once (ResourceType.listed), and its bounded fan-out.
    listings: Listings = field(default_factory=Listings)
    # The command's status reads of this cloud's runs, shared by every wait (providers/polling.py).
    statuses: StatusBoard = field(default_factory=StatusBoard)

    def fresh(self) -> Context:
        """This context with listings read again: a look-up after an ambiguous create must see what it made."""
        return replace(self, listings=self.listings.fresh())


class ResourceType:
    """One remote object kind. Subclasses set the class attributes and implement the calls.

    Annotations in this body spell ``builtins.list``: a bare ``list`` here is the method."""

    type_name: ClassVar[str]
    Args: ClassVar[type[Arguments]]
    computed: ClassVar[tuple[str, ...]] = ("id",)
    # Arguments that find an existing object with the same identity: the plan
    # names it with the 'labform import' command instead of creating a twin.
    natural_key: ClassVar[tuple[str, ...]] = ()
    # An upload found by its content hash: the same bytes already in the cloud
    # are adopted (the plan shows 'adopt') rather than uploaded again, and
    # forgotten rather than deleted on destroy unless ``on_destroy: delete``.
    content_addressed: ClassVar[bool] = False
    # No remote object of its own: a gate whose read() judges what the cloud reports (never drift).
    ephemeral: ClassVar[bool] = False
    # Whether a natural-key look-up that finds nothing proves the object was never made: True where
    # the API shows every object of the type for as long as it exists. Say False where it shows only
    # some (each device's current test, a recent page) or nothing at all: a create whose answer was
    # lost, or that a kill cut short, then stays unresolved until the look-up positively finds it or
    # the user says what became of it (``labform state resolve``); it is never sent again on a guess.
    # Without a natural key nothing can be looked up, so nothing is ever proven absent.
    lookup_proves_absence: ClassVar[bool] = True
    # Whether a create sets the one object of its kind in its scope (a project's config, its file of
    # one kind), replacing what is there: sending it again can never make a twin, so a create of
    # unknown outcome is simply sent again, with or without a natural key.
    create_replaces: ClassVar[bool] = False
    # Offer 'labform import' when an object with the natural key already exists.
    # Runs say no: an earlier run of the same name is history, not a twin.
    hint_imports: ClassVar[bool] = True

    def read(self, ctx: Context, id: str, prior: Attrs) -> Attrs | None:
        """The object as it is now, or None when it is gone. ``prior`` is its last state."""
        raise NotImplementedError

    def list_scope(self, attrs: Attrs) -> tuple | None:
        """The listing a batch refresh reads this object through, or None if not listable."""
        return None

    def list(self, ctx: Context, scope: tuple) -> Iterable[Attrs]:
        """Every object in ``scope`` (paged by the client), as read() would return them.

        A listing is evidence of presence only: refresh confirms an object missing from it with
        that object's own read() before calling it gone (see ``reads_each``)."""
        raise NotImplementedError

    def listed(self, ctx: Context, scope: tuple) -> builtins.list[Attrs]:
        """``list(ctx, scope)`` read once per command and shared: refresh, natural-key look-ups and
        recovery of one scope cost one listing, however many objects they ask about. Every item
        carry an ``id``, and each argument declared a plain string, number or boolean must be one
        (providers/mapping.py ``listed_items``): a malformed item is a ProviderError, never an object
        that is not there or one whose swapped fields read as drift."""
        cloud = self.type_name.split("_", 1)[0]
        operation = f"list {self.type_name}"
        return ctx.listings.get(
            (self.type_name, scope),
            lambda: listed_items(lambda: self.list(ctx, scope), cloud, operation, self.Args.scalar_kinds()),
        )

    @classmethod
    def reads_each(cls) -> bool:
        """Whether objects of this type have a read of their own, which alone may say one is gone."""
        return cls.read is not ResourceType.read

    def create(self, ctx: Context, desired: Attrs) -> Attrs:
        raise NotImplementedError

    def update(self, ctx: Context, id: str, desired: Attrs, actual: Attrs) -> Attrs:
        raise NotImplementedError

    def delete(self, ctx: Context, id: str, actual: Attrs) -> None:
        raise NotImplementedError

    def import_(self, ctx: Context, id: str) -> Attrs:
        """Adopt an existing object by its id; defaults to read()."""
        found = self.read(ctx, id, {})
        if found is None:
            from labform.providers.errors import NotFoundError

            raise NotFoundError(
                self.type_name.split("_", 1)[0], f"import {self.type_name}", 404, f"no object with id {id}"
            )
        return found

    # At plan time some values are not known yet (an id of an object still to
    # be created); plan_attributes and check then see a placeholder that is
    # not a str/int/bool/list/dict, and must skip what depends on it.

    def pending(self, desired: Attrs, actual: Attrs) -> str | None:
        """Why an object whose arguments match still needs apply work (a run not yet
        finished, a gate missed), or None. The engine then plans an update with that reason."""
        return None

    def plan_attributes(self, desired: Attrs, address: str = "") -> Attrs:
        """Attributes known at plan time from local inputs (e.g. a file's sha256, or a name
        derived from the plan ``address``)."""
        return {}

    def estimate(self, ctx: Context, desired: Attrs) -> str | None:
        """What creating this will cost, where the cloud says (shown in the plan)."""
        return None

    def check(self, desired: Attrs) -> builtins.list[tuple[str, str]]:
        """Cross-field rules: a list of (field, message). Runs at plan time and before apply."""
        return []

    def check_remote(self, ctx: Context, desired: Attrs) -> builtins.list[tuple[str, str]]:
        """Rules only the cloud can answer (do these device ids exist?), checked when a plan
        creates, updates or replaces the object: a list of (field, message)."""
        return []

    def facts(self, attrs: Attrs) -> RunFacts | None:
        """The result of a run from its recorded ``attrs``; None for a type that is not a run."""
        return None

    def credits_price(self, attrs: Attrs) -> float | None:
        """What a minute of a run on this object (the device set it runs on) costs in credits, from its
        recorded ``attrs``, where the cloud prices devices; None: unpriced. The cost after a run reads it."""
        return None

    def shard_units(self, written: Attrs, recorded: Sequence[str] = ()) -> builtins.list[str]:
        """The parts a run's suite can be started apart, as its block is written (a campaign's packages),
        or, where the block cannot say, as the tests history ``recorded`` on this cloud are grouped
        (their classes): what ``shards`` and ``labform tests shards`` balance. Empty for a type that
        cannot run part of a suite."""
        return []

    def verdict(self, desired: Attrs, actual: Attrs) -> Verdict | None:
        """The gate's judgement of ``actual`` (as refresh read it, or as state recorded it; empty
        while there is no object yet) against the bar in ``desired``; None when it has no gate.
        A missed gate is a failing check, not a change: ``pending`` must not report it."""
        return None

    def find_existing(self, ctx: Context, desired: Attrs) -> Attrs | None:
        """An existing remote object with the same natural key (as read() returns it), or None.
        Look in ``listed`` (or ``ctx.listings``), never in a listing of one's own per object; a scope
        may be the cloud's search for the object's name, where its doc says what search reads."""
        return None

    def candidates(self, ctx: Context, desired: Attrs) -> builtins.list[Attrs]:
        """Every remote object with the natural key, for recovering an interrupted create;
        a candidate may carry ``created_at`` (epoch seconds) where the API gives creation times.
        An empty answer means "none" only where ``lookup_proves_absence``; elsewhere "not seen"."""
        found = self.find_existing(ctx, desired)
        return [] if found is None else [found]


class DataSource:
    type_name: ClassVar[str]
    Args: ClassVar[type[Arguments]]
    computed: ClassVar[tuple[str, ...]] = ()

    def read(self, ctx: Context, args: Attrs) -> Attrs:
        raise NotImplementedError


class Provider:
    """A cloud: its settings model, how to build a client, its types."""

    name: ClassVar[str]
    Settings: ClassVar[type[Arguments]]
    resource_types: ClassVar[tuple[type[ResourceType], ...]] = ()
    data_sources: ClassVar[tuple[type[DataSource], ...]] = ()

    def client(self, settings: Any) -> Any:
        """The cloud's client; ``settings`` is an instance of this provider's own ``Settings`` (each
        subclass names that type, which a ClassVar cannot carry as a type parameter)."""
        raise NotImplementedError
