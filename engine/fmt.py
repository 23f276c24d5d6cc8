"""``labform fmt``: plan files rewritten in one canonical layout, comments kept.

The layout is what ruamel.yaml's round-trip writer makes of a file: two-space
indentation, list items indented two under their key, one space after ``:``
and after ``,`` in ``[...]`` and ``{...}``, and one newline at the end.
Comments (an end-of-line one in its column), blank lines, quotes and the
choice of flow or block style are the author's and stay. Files are read as labform reads plans (the same size and
alias bounds, the same file:line errors), and the formatted text is read back
and must hold the same values, so fmt never changes what a plan means.

    changed = format_files(Path("plans/bitbar-ci"), check=True)   # CI: labform fmt --check exits 3 if any
    changes = reformatted(Path("plans"), recursive=True)           # fmt -recursive -diff: before and after
"""

from __future__ import annotations

import difflib
import io
import re
import stat
from pathlib import Path

from ruamel.yaml import YAML

from labform.engine import diskwrite
from labform.engine.errors import ConfigError, LabformError, SourceLocation
from labform.engine.loader import _decode, _display, _parse, _read, plan_files

# No line is re-wrapped, however long: a plan's lines are the author's.
_WIDTH = 1 << 16
_TRAILING_BLANK_LINES = re.compile(r"\n{2,}\Z")


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = _WIDTH
    return yaml


def formatted(text: str, shown: str) -> str:
    """``text`` in the canonical layout. A ConfigError at its line when it is not valid YAML."""
    values = _parse(text, shown)
    if values is None:  # empty, or comments only: nothing to lay out
        return text
    stream = io.StringIO()
    yaml = _yaml()
    yaml.dump(yaml.load(text), stream)
    written = stream.getvalue()
    # Extra blank lines at the very end go, unless they are a kept (|+) block scalar's own.
    for candidate in (_TRAILING_BLANK_LINES.sub("\n", written), written):
        if _parse(candidate, shown) == values:
            return candidate
    raise ConfigError(
        "cannot be laid out without changing its values, so fmt leaves it as it is", SourceLocation(shown, 1, 1)
    )


def _files_below(path: Path) -> list[Path]:
    """``-recursive``: the ``*.yaml``/``*.yml`` files in ``path`` and every folder below it (hidden ones
    such as ``.git`` aside), in a stable order."""
    if path.is_file():
        return [path]
    found = sorted(
        p
        for p in path.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    if not found:
        raise ConfigError(f"no *.yaml plan files in or below '{path}'")
    return found


def reformatted(path: Path, recursive: bool = False) -> dict[Path, tuple[str, str]]:
    """The plan files at ``path`` (a file, a folder's ``*.yaml``, with ``recursive`` every folder's
    below it too) not in the canonical layout, each with its text and its canonical text."""
    changes = {}
    for file in _files_below(path) if recursive else plan_files(path):
        shown = _display(file)
        text = _decode(_read(file, shown), shown)
        result = formatted(text, shown)
        if result != text:
            changes[file] = (text, result)
    return changes


def rewrite(changes: dict[Path, tuple[str, str]]) -> None:
    """Write each file's canonical text (what ``reformatted`` found): every file is checked before any is written."""
    for file, (_, result) in changes.items():
        _replace(file, result)


def unified_diff(file: Path, before: str, after: str) -> str:
    """What fmt changes in ``file``, as ``diff -u`` (and Terraform's ``fmt -diff``) print it."""
    shown = _display(file).lstrip("/")
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"old/{shown}", f"new/{shown}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def format_files(path: Path, check: bool = False, recursive: bool = False) -> list[Path]:
    """The plan files at ``path`` not in the canonical layout, each rewritten unless ``check``."""
    changes = reformatted(path, recursive)
    if not check:
        rewrite(changes)
    return list(changes)


def _replace(file: Path, text: str) -> None:
    """All or nothing, keeping the file's mode: a crash or a full disk leaves the old file, never half of one."""
    diskwrite.replace(file, text, "the file is unchanged", LabformError, stat.S_IMODE(file.stat().st_mode))
