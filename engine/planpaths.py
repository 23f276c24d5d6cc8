"""Which files a plan folder holds: its ``*.yaml``/``*.yml`` files, in a stable order.

Its own module, importing nothing of labform's, so that start-up checks (whether a plan
mentions ``encryption:``, encryption/presence.py) list a folder as the loader does
without loading the loader.
"""

from __future__ import annotations

from pathlib import Path

SUFFIXES = (".yaml", ".yml")


def folder_files(folder: Path) -> list[Path]:
    """The plan files directly in ``folder``, sorted."""
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
