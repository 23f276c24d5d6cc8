"""One home for a block's arguments: look up the type, validate, normalise, protect, check.

Arguments pass through the same steps at load, plan and apply time, so each
step is written once here:

    lookup     resource_type / data_source            address → the provider's class
    validate   check_known_values / validated          pydantic, errors at file:line of the field
    protect    register_secrets / protect              secrets masked in output, fingerprinted in state
    normalise  normalize                               one comparable form for diffing
    compare    same / diff                             what changed, and what of it forces a replace
    check      desired_arguments                       substitute, validate, cross-field rules,
                                                       plan-time attributes (a file's hash)

At plan time a value may still be ``UNKNOWN`` (an id of an object not yet
created): such fields are skipped and checked again at apply, when known.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from labform.engine import secrets
from labform.engine.addresses import Address
from labform.engine.errors import ConfigError, StateError
from labform.engine.loader import KeyPath, Positions
from labform.engine.references import UNKNOWN, ExpressionError, Reference, contains_unknown, references_in, substitute
from labform.providers import masking, registry
from labform.providers.base import Arguments, DataSource, ResourceType
from labform.providers.errors import ArgumentError


def resource_type(address: Address) -> ResourceType:
    """The type of a block or state entry; config and state loading have named any unknown type already."""
    return type_named(address.type)


def type_named(type_name: str) -> ResourceType:
    found = registry.resource_type(type_name)
    if found is None:
        raise StateError(f"no provider of this labform has the resource type '{type_name}'")
    return found


def data_source(address: Address) -> DataSource:
    found = registry.data_source(address.type)
    if found is None:
        raise StateError(f"no provider of this labform has the data source '{address.type}'")
    return found


@cache
def field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """A validator for one field of ``model``, so a single known value can be checked alone."""
    info = model.model_fields[name]
    annotation: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return TypeAdapter(annotation)


def _has_reference(text: str) -> bool:
    """A real ``${...}`` is in ``text``; an escaped ``$${...}`` is literal text, not one.

    A malformed reference counts as one: loading has already reported it where
    it is written, so checking the field too would only pile on a second error."""
    try:
        return next(references_in(text), None) is not None
    except ValueError:
        return True


def _pending(value: Any) -> bool:
    """Not checkable yet: unknown until apply, or a reference still written out."""
    if value is UNKNOWN or (isinstance(value, str) and _has_reference(value)):
        return True
    if isinstance(value, dict):
        return any(_pending(v) for v in value.values())
    if isinstance(value, list):
        return any(_pending(v) for v in value)
    return False


# What a value of the wrong kind must be, by pydantic's error type prefix (int_parsing, bool_type, ...).
_KINDS = {
    "int": "a valid integer",
    "float": "a number",
    "decimal": "a number",
    "bool": "true or false",
    "string": "text",
    "list": "a list",
    "tuple": "a list",
    "set": "a list",
    "dict": "a mapping",
    "model": "a mapping",
}


def plain_message(error: Any, show_input: bool = True) -> str:
    """One pydantic error in plain words ("must be ..."), never the library's phrasing
    ("Input should be", "Value error, "); ``show_input`` adds the rejected value."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    got = f", not {value!r}" if show_input and not isinstance(value, (dict, list)) else ""
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "string_too_short":
        return "must not be empty" if ctx["min_length"] == 1 else f"must have at least {ctx['min_length']} characters"
    if kind in ("string_too_long", "too_short", "too_long"):
        count = ctx.get("min_length", ctx.get("max_length"))
        unit = "character" if kind.startswith("string") else "item"
        return f"must have {'at least' if kind == 'too_short' else 'at most'} {count} {unit}{'s' if count != 1 else ''}"
    base = kind.split("_")[0]
    if base in _KINDS and kind.endswith(("_type", "_parsing", "_from_float")):
        return f"must be {_KINDS[base]}{got}"
    message: str = error["msg"]
    return message.removeprefix("Value error, ").replace("Input should be", "must be") + got


def _credential_hint(
    model: type[Arguments], values: dict[str, Any], key_path: KeyPath, loc: tuple[str | int, ...]
) -> str:
    """For a provider setting left empty (typically ``${env.BITBAR_API_KEY:-}`` with the variable
    unset), its conventional variable and that it is unset. A rule about the whole settings
    (loc empty: "set api_key, or ...") is about the first empty credential."""
    if len(key_path) != 2 or key_path[0] != "providers":
        return ""
    empty_secrets = [name for name in model.model_fields if model.flag(name, "sensitive") and not values.get(name)]
    field = loc[0] if loc else next(iter(empty_secrets), None)
    if field not in model.model_fields or values.get(field) not in (None, ""):
        return ""
    variable = f"{key_path[1]}_{field}".upper()
    if variable not in os.environ:
        return f": {variable} is not set"
    return f": {variable} is empty" if not os.environ[variable] else ""


def check_known_values(model: type[Arguments], values: dict[str, Any]) -> list[tuple[KeyPath, str]]:
    """(field path, message) for each known value the model rejects; pending values wait."""
    problems: list[tuple[KeyPath, str]] = []
    fields = model.model_fields  # read once: pydantic builds it per access
    for name, value in values.items():
        if name not in fields or _pending(value):
            continue
        try:
            field_adapter(model, name).validate_python(value)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(((name, *error["loc"]), plain_message(error, not model.flag(name, "sensitive"))))
    return problems


def validated(
    model: type[Arguments], values: dict[str, Any], positions: Positions, key_path: KeyPath, subject: str
) -> dict[str, Any]:
    """The values as the model reads them (only those set); the first error at its field's line."""
    try:
        return model.model_validate(values).model_dump(exclude_unset=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        location = positions.of(key_path + tuple(error["loc"])) or positions.of(key_path)
        shown = not (
            error["loc"] and error["loc"][0] in model.model_fields and model.flag(error["loc"][0], "sensitive")
        )
        message = plain_message(error, shown) + _credential_hint(model, values, key_path, error["loc"])
        raise ConfigError(f"{where}: {message}" if where else message, location, subject) from None


def register_secrets(model: type[Arguments], values: dict[str, Any]) -> None:
    """Mask sensitive values in every later output, as soon as they are known."""
    for name in model.fields_with("sensitive"):
        value = values.get(name)
        if isinstance(value, (str, int)) and not _pending(value):
            masking.register(value)


def sensitive_keys(rtype: ResourceType | DataSource, *attribute_maps: dict[str, Any] | None) -> frozenset[str]:
    """The arguments kept and shown as secrets: those the type declares sensitive, and any other
    holding a secret (a sensitive variable's value, a credential, a value built from one), or
    already kept as a fingerprint. The id never is: state is keyed by it."""
    declared = rtype.Args.fields_with("sensitive")
    tainted = {
        key
        for attrs in attribute_maps
        if attrs
        for key, value in attrs.items()
        if key != "id" and key not in declared and (secrets.is_fingerprint(value) or masking.holds(value))
    }
    return declared | tainted if tainted else declared


def protect(rtype: ResourceType, attrs: dict[str, Any], prior: dict[str, Any] | None = None) -> dict[str, Any]:
    """Replace sensitive values by fingerprints, as state and plans keep them. A value that
    matches its fingerprint in ``prior`` keeps that fingerprint (salted hashes differ each time),
    so an unchanged secret diffs as unchanged."""
    sensitive = sensitive_keys(rtype, attrs)
    prior = prior or {}

    def kept(key: str, value: Any) -> Any:
        if key not in sensitive or value is None or secrets.is_fingerprint(value) or contains_unknown(value):
            return value
        return secrets.kept(value, prior.get(key))

    return {key: kept(key, value) for key, value in attrs.items()}


def normalize(rtype: ResourceType, name: str, value: Any) -> Any:
    """Bring a desired or actual value to one comparable form."""
    if value is None or contains_unknown(value):
        return value
    model = rtype.Args
    if name in model.model_fields:
        adapter = field_adapter(model, name)
        try:
            value = adapter.dump_python(adapter.validate_python(value), mode="json")
        except (ValidationError, TypeError, ValueError):
            return value
        if model.flag(name, "unordered") and isinstance(value, list):
            return sorted(value, key=str)
    return value


def same(rtype: ResourceType, name: str, one: Any, other: Any) -> bool:
    """Whether two values of an argument are the same once normalised (equal ones are, at no cost:
    a plan of thousands of unchanged objects compares every argument twice)."""
    return bool(one == other or normalize(rtype, name, one) == normalize(rtype, name, other))


def diff(rtype: ResourceType, desired: dict[str, Any], actual: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(changed attributes, those among them that force replacement)."""
    changed, forcing = [], []
    force_new = rtype.Args.fields_with("force_new")
    plan_time = set(desired) - set(rtype.Args.model_fields)
    for name, want in desired.items():
        have = actual.get(name)
        if same(rtype, name, want, have) and not contains_unknown(want):
            continue
        changed.append(name)
        if name in force_new or name in plan_time:
            forcing.append(name)
    return changed, forcing


def substituted(block: Any, lookup: Callable[[Reference], Any]) -> dict[str, Any]:
    """The block's arguments with their ``${...}`` evaluated as its scope reads them (a module's
    blocks read its inputs and folder); an expression that fails is an error at its field's line,
    its column in the message."""
    try:
        args: dict[str, Any] = substitute(block.arguments, block.scope.resolver(lookup), base=block.scope.folder)
    except ExpressionError as error:
        raise ConfigError(str(error), block.positions.of(block.key_path + error.path), str(block.address)) from None
    return args


def desired_arguments(block: Any, lookup: Callable[[Reference], Any]) -> dict[str, Any]:
    """A resource block's arguments with references substituted, validated where known,
    checked by the type's cross-field rules and completed by its plan-time attributes.

    Used at plan time (some values UNKNOWN) and at apply (all known), so a bad value
    that only a reference revealed is caught before any request, at the field's line."""
    rtype = resource_type(block.address)
    subject = str(block.address)
    positions = block.positions
    args = substituted(block, lookup)
    if contains_unknown(args):  # the known values checked one by one; the model once all are known
        for where, message in check_known_values(rtype.Args, args):
            location = positions.of(block.key_path + where) or positions.of(block.key_path)
            raise ConfigError(f"{'.'.join(map(str, where))}: {message}", location, subject)
    else:
        args = validated(rtype.Args, args, positions, block.key_path, subject)
    register_secrets(rtype.Args, args)
    for field_name, message in rtype.check(args):
        raise ConfigError(message, positions.of(block.key_path + (field_name,)), subject)
    try:
        return {**args, **rtype.plan_attributes(args, address=subject)}
    except ArgumentError as exc:
        raise ConfigError(exc.message, positions.of(block.key_path + (exc.field,)), subject) from None


def data_arguments(block: Any, lookup: Callable[[Reference], Any]) -> dict[str, Any] | None:
    """A data block's arguments, validated; None while some are unknown (read during apply)."""
    args = substituted(block, lookup)
    if contains_unknown(args):
        return None
    return validated(data_source(block.address).Args, args, block.positions, block.key_path, str(block.address))
