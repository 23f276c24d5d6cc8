"""The functions labform adds to CEL, with Terraform's meaning:

    file(path)          the text of a file (UTF-8); a relative path from the caller's base folder
    command(prog, args...) a secret an external program prints (Vault, a cloud's secret manager): its
                        standard output, one final newline removed, masked in every output; no shell;
                        run once per labform command; a relative ./prog from the caller's base folder
    sha256(text)        hex SHA-256 of the text's UTF-8 bytes
    merge(maps...)      one map; a key in a later map wins; null arguments are skipped
    keys(map)           its keys, sorted
    values(map)         its values, in the order of the sorted keys
    format(spec, ...)   printf-style text (%s %d %f %v %q %t %#v ..., see engine/expressions/formatting.py)
    flatten(list)       nested lists made one list, recursively
    setproduct(lists...) every combination, one element of each list, in order (at least two lists)
    zipmap(keys, values) a map from a list of keys and a list of values of the same length

A refusal is a ``FunctionError`` in plain words; the library only says that a
call failed, so the reason is kept aside (per thread: apply evaluates in
parallel) for the error the caller raises.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from labform.engine import external
from labform.engine.expressions.formatting import FormatError, format_text
from labform.providers import masking


class FunctionError(Exception):
    """A function refused its arguments."""


_failure = threading.local()


def last_failure() -> str | None:
    """The reason of the function call that just failed in this thread, once."""
    reason: str | None = getattr(_failure, "reason", None)
    _failure.reason = None
    return reason


def _map(value: Any, function: str, position: str = "its argument") -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise FunctionError(f"{function}: {position} must be a map, not {_kind(value)}")
    return value


def _list(value: Any, function: str, position: str = "its argument") -> list[Any]:
    if not isinstance(value, list):
        raise FunctionError(f"{function}: {position} must be a list, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a bool", int: "an int", float: "a double", str: "a string", list: "a list", dict: "a map"}
    return names.get(type(value), type(value).__name__)


def _file(base: Path | None, path: Any) -> str:
    if not isinstance(path, str):
        raise FunctionError(f"file: the path must be a string, not {_kind(path)}")
    full = Path(path) if base is None or Path(path).is_absolute() else base / path
    try:
        return external.read(full, path)
    except external.ExternalError as exc:
        raise FunctionError(f"file: {exc}") from None


_command_outputs: dict[tuple[str, ...], str] = {}
_command_lock = threading.Lock()


def _command(base: Path | None, *argv: Any) -> str:
    for number, part in enumerate(argv, 1):
        if not isinstance(part, str):
            raise FunctionError(f"command: argument {number} must be a string, not {_kind(part)}")
    program = argv[0]
    if "/" in program and base is not None and not Path(program).is_absolute():
        program = str(base / program)
    wanted = (program, *argv[1:])
    with _command_lock:  # once per command: apply evaluates in parallel, and a secret manager counts calls
        if wanted not in _command_outputs:
            try:
                output = external.run(wanted)
            except external.ExternalError as exc:
                raise FunctionError(f"command: {exc}") from None
            _command_outputs[wanted] = output.removesuffix("\n")
            masking.register(_command_outputs[wanted])
        return _command_outputs[wanted]


def _sha256(text: Any) -> str:
    if not isinstance(text, str):
        raise FunctionError(f"sha256: its argument must be a string, not {_kind(text)}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _merge(*maps: Any) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for number, item in enumerate(maps, 1):
        if item is not None:
            merged.update(_map(item, "merge", f"argument {number}"))
    return merged


def _keys(value: Any) -> list[Any]:
    return sorted(_map(value, "keys"))


def _values(value: Any) -> list[Any]:
    mapping = _map(value, "values")
    return [mapping[key] for key in sorted(mapping)]


def _format(spec: Any, *values: Any) -> str:
    if not isinstance(spec, str):
        raise FunctionError(f"format: the specification must be a string, not {_kind(spec)}")
    try:
        return format_text(spec, values)
    except FormatError as exc:
        raise FunctionError(f"format: {exc}") from None


def _flatten(value: Any) -> list[Any]:
    flat: list[Any] = []
    for item in _list(value, "flatten"):
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat


def _setproduct(*lists: Any) -> list[list[Any]]:
    if len(lists) < 2:
        raise FunctionError("setproduct: at least two lists are needed")
    checked = [_list(item, "setproduct", f"argument {number}") for number, item in enumerate(lists, 1)]
    return [list(combination) for combination in itertools.product(*checked)]


def _zipmap(keys: Any, values: Any) -> dict[str, Any]:
    names = _list(keys, "zipmap", "the keys")
    items = _list(values, "zipmap", "the values")
    if len(names) != len(items):
        raise FunctionError(f"zipmap: {len(names)} keys but {len(items)} values")
    for name in names:
        if not isinstance(name, str):
            raise FunctionError(f"zipmap: every key must be a string, not {_kind(name)}")
    return dict(zip(names, items, strict=True))


# How many arguments each takes: (fewest, most); None: any number.
_ARITY: dict[str, tuple[int, int | None]] = {
    "file": (1, 1),
    "command": (1, None),
    "sha256": (1, 1),
    "merge": (0, None),
    "keys": (1, 1),
    "values": (1, 1),
    "format": (1, None),
    "flatten": (1, 1),
    "setproduct": (0, None),
    "zipmap": (2, 2),
}


def _guarded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    fewest, most = _ARITY[name]
    wanted = f"{fewest}" if fewest == most else f"at least {fewest}"

    def call(*args: Any) -> Any:
        try:
            if len(args) < fewest or (most is not None and len(args) > most):
                raise FunctionError(f"{name} takes {wanted} argument{'s' if most != 1 else ''}, not {len(args)}")
            return function(*args)
        except FunctionError as exc:
            _failure.reason = str(exc)
            raise
        except TypeError as exc:  # keys of kinds that do not sort together, say
            _failure.reason = f"{name}: {exc}"
            raise

    return call


@cache
def functions(base: Path | None) -> dict[str, Callable[..., Any]]:
    """The functions, ``file`` reading from ``base`` (None: the working directory)."""
    table: dict[str, Callable[..., Any]] = {
        "file": lambda path: _file(base, path),
        "command": lambda *argv: _command(base, *argv),
        "sha256": _sha256,
        "merge": _merge,
        "keys": _keys,
        "values": _values,
        "format": _format,
        "flatten": _flatten,
        "setproduct": _setproduct,
        "zipmap": _zipmap,
    }
    return {name: _guarded(name, function) for name, function in table.items()}
