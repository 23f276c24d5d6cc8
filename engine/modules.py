"""Modules: a folder of plan files called with inputs, its blocks addressed under ``module.NAME``.

    modules:
      ci:
        source: ./modules/app-ci          # a local folder (a registry is out of scope)
        for_each: ${var.apps}              # or count; each instance is module.ci["KEY"]
        inputs: {app: "${each.key}", project: "${bitbar_project.shop.id}"}

A module's folder is read once however many instances call it, and its files
keep their own file:line:col. A module declares no providers (its blocks use
the caller's), no moved or removed blocks (those belong to the root plan).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labform.engine.loader import LoadedPlan, load

MODULE_KEYS = ("source", "inputs", "for_each", "count")
# Sections a module may not have, and why not.
ROOT_ONLY = {
    "providers": "a module uses its caller's providers: move this section to the root plan",
    "moved": "moved blocks belong in the root plan (write the whole address: module.NAME.TYPE.NAME)",
    "removed": "removed blocks belong in the root plan (write the whole address: module.NAME.TYPE.NAME)",
}


class ModuleSources:
    """Each module folder loaded once per command, however many calls and instances read it."""

    def __init__(self) -> None:
        self._loaded: dict[Path, LoadedPlan] = {}

    def load(self, folder: Path) -> LoadedPlan:
        if folder not in self._loaded:
            self._loaded[folder] = load(folder)
        return self._loaded[folder]

    def file_hashes(self) -> dict[str, str]:
        """Every module file read, by its shown path: a saved plan is stale once one changes."""
        return {name: digest for loaded in self._loaded.values() for name, digest in loaded.file_hashes.items()}


def plan_folder(path: Path) -> Path:
    """The folder a plan (a folder, or one file) reads module sources from."""
    return (path if path.is_dir() else path.parent).resolve()


def source_folder(caller: Path, source: Any, calls: tuple[Path, ...]) -> Path:
    """The folder ``source`` names, from the calling plan's folder; ValueError saying what to write
    instead for a source that is not a local folder, or that calls a module already being called."""
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source must be the path of a folder of plan files (source: ./modules/NAME)")
    if not source.startswith(("./", "../")):
        raise ValueError(
            f"source '{source}' is not a local path: write ./{source} (a local folder; registries are not supported)"
        )
    folder = (caller / source).resolve()
    if not folder.is_dir():
        raise ValueError(f"source '{source}' is not a folder (a module is a folder of *.yaml plan files)")
    if folder in calls:
        loop = " -> ".join(_from(calls[0], each) for each in (*calls[calls.index(folder) :], folder))
        raise ValueError(f"source '{source}' calls itself: {loop}")
    return folder


def _from(root: Path, folder: Path) -> str:
    """A module folder as the root plan's folder sees it (how the user wrote the sources)."""
    try:
        return str(folder.relative_to(root)) or "."
    except ValueError:
        return str(folder)


def relative_path(folder: Path) -> str:
    """A folder from the working directory, as Terraform gives ``path.module`` and ``path.root``."""
    try:
        return str(folder.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(folder)
