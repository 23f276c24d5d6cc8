"""``labform providers schema -json``: every provider's arguments in Terraform's shape.

Tools written for ``terraform providers schema -json`` (editors, linters,
documentation generators, terraform-json's ``ProviderSchemas``) read labform's
types the same way: ``provider_schemas`` keyed by provider address, each with
its ``provider`` block and ``resource_schemas``/``data_source_schemas``, every
attribute with its type (cty's JSON spelling), description, ``required``,
``optional``, ``computed`` and ``sensitive``. It is built from the pydantic
models the engine validates with, the ones ``schemas/`` and the reference pages
are made from, so all three say the same; a nested model (a gate, a wait
policy) is a ``nested_type``, keeping its fields' descriptions.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union

from pydantic import BaseModel

from labform.engine.provider_address import provider_address
from labform.engine.schema import class_summary
from labform.providers import registry
from labform.providers.base import Arguments

FORMAT_VERSION = "1.0"
# What a computed attribute the models do not declare is: whatever the cloud sends.
DYNAMIC = "dynamic"
COMPUTED = "Set by the cloud once the object exists (read it as ${TYPE.NAME.attribute})."


def unwrapped(annotation: Any) -> Any:
    """``annotation`` without ``Annotated`` and without ``None`` (an optional value is the same type)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        kinds = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return unwrapped(kinds[0]) if len(kinds) == 1 else annotation
    return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    kind = unwrapped(annotation)
    return kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None


def cty_type(annotation: Any) -> Any:
    """The type as Terraform's JSON writes it: ``"string"``, ``"number"``, ``"bool"``, ``["list", T]``,
    ``["map", T]``, ``["object", {name: T}]``; ``"dynamic"`` for a union of several kinds."""
    kind = unwrapped(annotation)
    origin = typing.get_origin(kind)
    if origin is Literal:
        return _scalar(type(typing.get_args(kind)[0]))
    if origin in (list, tuple):
        return ["list", cty_type(typing.get_args(kind)[0])]
    if origin in (set, frozenset):
        return ["set", cty_type(typing.get_args(kind)[0])]
    if origin is dict:
        return ["map", cty_type(typing.get_args(kind)[1])]
    if model := _model(kind):
        return ["object", {name: cty_type(field.annotation) for name, field in model.model_fields.items()}]
    return _scalar(kind)


def _scalar(kind: Any) -> str:
    if kind is bool:  # before int: a bool is an int to Python
        return "bool"
    if kind in (int, float):
        return "number"
    return "string" if kind is str else DYNAMIC


def _described(description: str | None) -> dict[str, Any]:
    return {"description": description, "description_kind": "plain"} if description else {}


def nested_model(annotation: Any) -> tuple[type[BaseModel], str] | None:
    """The model a field holds, and Terraform's nesting mode for it: one (``single``) or a ``list``."""
    kind = unwrapped(annotation)
    if model := _model(kind):
        return model, "single"
    if typing.get_origin(kind) is list and (model := _model(typing.get_args(kind)[0])):
        return model, "list"
    return None


def _attribute(model: type[BaseModel], name: str, computed: bool = False) -> dict[str, Any]:
    """One field as a Terraform schema attribute (flags that would be false are left out, as Terraform does)."""
    field = model.model_fields[name]
    nested = nested_model(field.annotation)
    if nested is None:
        shape: dict[str, Any] = {"type": cty_type(field.annotation)}
    else:
        shape = {"nested_type": {"attributes": _attributes(nested[0]), "nesting_mode": nested[1]}}
    flags = {
        "required": field.is_required(),
        "optional": not field.is_required(),
        "computed": computed,
        "sensitive": issubclass(model, Arguments) and model.flag(name, "sensitive"),
    }
    return {**shape, **_described(field.description), **{key: True for key, on in flags.items() if on}}


def _attributes(model: type[BaseModel], computed: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model's fields, then the computed attributes it does not declare, by name."""
    found = {name: _attribute(model, name, name in computed) for name in model.model_fields}
    for name in computed:
        found.setdefault(name, {"type": DYNAMIC, **_described(COMPUTED), "computed": True})
    return dict(sorted(found.items()))


def block(model: type[BaseModel], description: str, computed: tuple[str, ...] = ()) -> dict[str, Any]:
    """A resource's, data source's or provider's schema: ``version`` 0 (labform has no schema upgrades yet)."""
    return {
        "version": 0,
        "block": {"attributes": _attributes(model, computed), **_described(description)},
    }


def providers_schema() -> dict[str, Any]:
    """Every provider's schema, as ``terraform providers schema -json`` prints it."""
    resources, sources = registry.resource_types(), registry.data_sources()
    schemas = {}
    for name in registry.provider_names():
        provider = registry.provider(name)
        schemas[provider_address(name)] = {
            "provider": block(provider.Settings, class_summary(type(provider))),
            "resource_schemas": {
                type_name: block(kind.Args, class_summary(type(kind)), kind.computed)
                for type_name, kind in sorted(resources.items())
                if registry.owner(type_name) == name
            },
            "data_source_schemas": {
                type_name: block(source.Args, class_summary(type(source)), source.computed)
                for type_name, source in sorted(sources.items())
                if registry.owner(type_name) == name
            },
        }
    return {"format_version": FORMAT_VERSION, "provider_schemas": schemas}
