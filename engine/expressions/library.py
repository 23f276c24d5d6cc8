"""The CEL library (PyPI ``common-expression-language``, Rust-backed): loaded on first use, programs
compiled once per source text, its exceptions turned into plain reasons.

The package's ``__init__`` also imports its interactive shell (typer, rich, prompt_toolkit: a
quarter of a second, and rich is kept out of ``labform validate``), so only its compiled module
``cel.cel`` is loaded, as the package itself would register it. A plan whose expressions are all
plain references never loads the library at all.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

_MODULE = "cel.cel"
# "<input>:LINE:COL: Syntax error: ..." in the library's parse errors.
_SYNTAX = re.compile(r"<input>:(\d+):(\d+): (.+?)(?:\n|$)")


class Program(Protocol):
    def execute(self, context: dict[str, Any]) -> Any: ...


class CompileFailure(Exception):
    """The library refused a source text: ``offset`` (0-based, in that text) and its reason."""

    def __init__(self, reason: str, offset: int):
        super().__init__(reason)
        self.reason, self.offset = reason, offset


@cache
def _library() -> ModuleType:
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    package = importlib.util.find_spec("cel")
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("the 'common-expression-language' package is not installed")
    folder = Path(next(iter(package.submodule_search_locations)))
    path = next(
        folder / f"cel{suffix}"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        if (folder / f"cel{suffix}").exists()
    )
    loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(path))
    spec = importlib.util.spec_from_file_location(_MODULE, path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[_MODULE] = module  # a later `import cel` finds it instead of initialising it twice
    # It logs a warning for each failing function call; the error raised says the same, in its place.
    logging.getLogger("cel").disabled = True
    return module


@cache
def compiled(source: str) -> Program:
    """``source`` compiled once per command, however many blocks repeat it."""
    try:
        program: Program = _library().compile(source)
    except ValueError as exc:
        raise _compile_failure(source, str(exc)) from None
    return program


def _compile_failure(source: str, message: str) -> CompileFailure:
    match = _SYNTAX.search(message)
    if match is None:
        return CompileFailure(message.splitlines()[0], 0)
    line, column = int(match.group(1)), int(match.group(2))
    offset = sum(len(text) + 1 for text in source.split("\n")[: line - 1]) + column - 1
    return CompileFailure(match.group(3).strip(), offset)


def reason(exc: Exception) -> str:
    """An evaluation failure in plain words: the library's message, a missing key named."""
    if isinstance(exc, KeyError):
        return f"no key {exc.args[0]!r}" if exc.args else "no such key"
    return str(exc).strip()
