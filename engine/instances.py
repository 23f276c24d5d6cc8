"""``for_each`` and ``count``: one block written, one instance planned per key.

Terraform's rules, as its users expect them:

- ``count: N`` (a whole number, 0 or more) makes ``TYPE.NAME[0]`` … ``[N-1]``,
  each with ``count.index``;
- ``for_each`` takes a map (its keys) or a list of strings (the strings, so
  re-ordering the list changes nothing) and makes ``TYPE.NAME["key"]``, each
  with ``each.key`` and ``each.value`` (a list's ``each.value`` is its key);
- both on one block, keys known only after apply, or two items that make
  the same key are errors naming the field: keys must come from variables,
  locals and literals, so a plan can say which instances there are.
"""

from __future__ import annotations

from typing import Any

from labform.engine.addresses import Key
from labform.engine.references import references_in
from labform.engine.types import described

# What a block instance binds: (instance key, each.value); a block without either has one, (None, None).
Instance = tuple[Key, Any]
PLAIN: list[Instance] = [(None, None)]


class InstanceError(ValueError):
    """A ``for_each`` or ``count`` that names no instances: ``field`` is the one at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def instances(body: dict[str, Any]) -> list[Instance]:
    """The instances a block's ``for_each`` / ``count`` (already substituted with variables and
    locals) makes, in key order; ``PLAIN`` for a block with neither."""
    if "for_each" in body and "count" in body:
        raise InstanceError("count", "a block takes for_each or count, not both: keep for_each to key by name")
    if "count" in body:
        return [(index, None) for index in range(_count(body["count"]))]
    if "for_each" in body:
        return _for_each(body["for_each"])
    return PLAIN


def _not_yet_known(field: str, value: Any) -> None:
    late = [str(r.target) for r in references_in(value) if r.kind in ("resource", "data")]
    if late or (isinstance(value, str) and "${" in value):
        what = f"reads {late[0]}, known only after apply" if late else "is not known before apply"
        raise InstanceError(
            field,
            f"{field} {what}: its keys must be known when planning; build them from variables, locals or literals",
        )


def _count(value: Any) -> int:
    _not_yet_known("count", value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InstanceError("count", f"count must be a whole number, not {value!r}")
    if value < 0:
        raise InstanceError("count", f"count must be 0 or more, not {int(value)}")
    return int(value)


def _for_each(value: Any) -> list[Instance]:
    _not_yet_known("for_each", value)
    if isinstance(value, dict):
        keys = [str(key) for key in value]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise InstanceError("for_each", f"for_each: two keys of the map both make the key {twice[0]!r}")
        return [(str(key), value[key]) for key in sorted(value, key=str)]
    if not isinstance(value, list):
        raise InstanceError("for_each", f"for_each takes a map or a list of strings, not {described(value)}")
    seen: dict[str, int] = {}
    for position, item in enumerate(value):
        if not isinstance(item, str):
            raise InstanceError(
                "for_each",
                f"for_each: item {position} of the list is {described(item)}; a list gives its strings as keys "
                "(use a map to key other values)",
            )
        if item in seen:
            raise InstanceError(
                "for_each", f"for_each: items {seen[item]} and {position} both make the key {item!r}; keys are unique"
            )
        seen[item] = position
    return [(key, key) for key in sorted(seen)]
