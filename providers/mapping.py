"""Translate between a cloud's field names and labform argument names.

Each resource declares one ``FieldMap`` (labform name → cloud name); reading
and writing both go through it, so the two directions cannot disagree.

``listed_items`` is the one shape check of a listing's items (every cloud's
``list()`` goes through it, in ``ResourceType.listed``): an item that is not an
object, has no usable ``id``, or gives an argument declared a plain string,
number or boolean a value of another JSON type, fails the listing, so a garbled
page can never read as objects that are not there, nor as drift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from labform.providers.errors import LabformError, ProviderError


class MalformedItem(LabformError):
    """A cloud object not of the shape its FieldMap reads; in a listing, ``listed_items`` turns it
    into a ProviderError naming the cloud and the call."""


class FieldMap:
    def __init__(self, **names: str):
        self.to_cloud = dict(names)
        self.to_labform = {cloud: ours for ours, cloud in names.items()}

    def attrs(self, remote: dict[str, Any]) -> dict[str, Any]:
        """The labform attributes found in a cloud object (a key it lacks is left out)."""
        if not isinstance(remote, dict):
            raise MalformedItem(f"expected an object, got {type(remote).__name__}")
        return {ours: remote[cloud] for cloud, ours in self.to_labform.items() if cloud in remote}

    def params(self, desired: dict[str, Any], only: set[str] | None = None) -> dict[str, Any]:
        """Cloud parameters for the desired arguments that are set (and in ``only``)."""
        return {
            cloud: desired[ours]
            for ours, cloud in self.to_cloud.items()
            if ours in desired and desired[ours] is not None and (only is None or ours in only)
        }


def listed_items(
    read: Callable[[], Iterable[Any]], cloud: str, operation: str, kinds: Mapping[str, type] | None = None
) -> list[dict[str, Any]]:
    """What ``read()`` lists, each item checked to be an object with a non-empty str or int ``id``
    and, for each argument named in ``kinds``, a value of that JSON type (or null); otherwise a
    ProviderError naming the cloud and the listing (the item's position and field, never its values)."""
    try:
        items = list(read())
        for position, item in enumerate(items):
            _check_item(item, position, kinds or {})
        return items
    except MalformedItem as error:
        raise ProviderError(cloud, operation, None, f"the listing answered an unreadable item: {error}") from None


def _check_item(item: Any, position: int, kinds: Mapping[str, type]) -> None:
    if not isinstance(item, dict):
        raise MalformedItem(f"item {position} is {type(item).__name__}, not an object")
    if "id" not in item:
        raise MalformedItem(f"item {position} has no id")
    id = item["id"]
    if isinstance(id, bool) or not isinstance(id, str | int) or id == "":
        raise MalformedItem(f"item {position} has an id of type {type(id).__name__}, not a str or int")
    for name, kind in kinds.items():
        value = item.get(name)
        if value is not None and not _is_kind(value, kind):
            raise MalformedItem(f"item {position}'s '{name}' is {type(value).__name__}, not {_KIND_NAMES[kind]}")


_KIND_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "a boolean"}


def _is_kind(value: Any, kind: type) -> bool:
    """JSON's types as pydantic reads them: a boolean is no number, a whole number is a number."""
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)
