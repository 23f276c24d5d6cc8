"""A workspace's own environment: plain values, and credentials from files and programs.

One worker serves workspaces with different cloud keys, so each workspace names where
its own come from, read afresh at each reconcile (a rotated key is picked up):

    env:
      BITBAR_URL: https://cloud.bitbar.com               # plain: written in the config
      BITBAR_API_KEY: {file: /run/secrets/bitbar-key}    # a mounted secret (Kubernetes, Docker)
      PERFECTO_TOKEN: {command: [vault, kv, get, -field=token, secret/perfecto]}
    env_files:
      - /etc/labform/shop.env                            # NAME=VALUE lines (dotenv)
      - {command: [./print-env.sh, shop]}                # a program printing NAME=VALUE lines

A file's text (the last newline dropped) is what ``file()`` gives a plan; a program runs
without a shell, as the ``command`` key provider does, and its standard output is the value.
Everything read from a file or a program is sensitive: registered with the masking layer
as it is read, so it reads ``(sensitive)`` in records, reports, logs and errors. A source
that cannot be read fails the workspace's reconcile naming the config's line, never the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from labform.engine import external
from labform.engine.errors import ConfigError, SourceLocation
from labform.providers import masking


class FileSource(BaseModel):
    """A file holding one value (a mounted secret)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    file: Path = Field(description="The file whose text (its last newline dropped) is the value; sensitive.")


class CommandSource(BaseModel):
    """A program whose standard output is the value (or, in env_files, NAME=VALUE lines)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    command: list[str] = Field(min_length=1, description="The program and its arguments (no shell); sensitive.")


def _kind(value: Any) -> str | None:
    """Which source an entry is, by its shape: so a mistake is told against that one source."""
    if isinstance(value, str | Path):
        return "plain"
    if isinstance(value, FileSource | CommandSource):
        return "file" if isinstance(value, FileSource) else "command"
    if isinstance(value, dict):
        return next((key for key in ("file", "command") if key in value), None)
    return None


TAGS = ("plain", "file", "command")
_SOURCE = "must be text, {file: PATH} or {command: [PROGRAM, ARGS...]}"
EnvValue = Annotated[
    Annotated[str, Tag("plain")] | Annotated[FileSource, Tag("file")] | Annotated[CommandSource, Tag("command")],
    Discriminator(_kind, custom_error_type="env_source", custom_error_message=_SOURCE),
]
EnvFile = Annotated[
    Annotated[Path, Tag("plain")] | Annotated[CommandSource, Tag("command")],
    Discriminator(
        _kind, custom_error_type="env_file", custom_error_message="must be a path or {command: [PROGRAM, ARGS...]}"
    ),
]


def run(source: CommandSource, base: Path, where: SourceLocation | None, field: str) -> str:
    """The program's standard output (run from the config's folder); a failure names the program
    and its exit, never what it printed (a secret helper's complaint may quote the secret)."""
    try:
        return external.run(source.command, cwd=base)
    except external.ExternalError as exc:
        raise ConfigError(str(exc), where, field) from None


def read(path: Path, where: SourceLocation | None, field: str) -> str:
    try:
        return external.read(path)
    except external.ExternalError as exc:
        raise ConfigError(str(exc), where, field) from None


def value(source: EnvValue, base: Path, where: SourceLocation | None, field: str) -> str:
    """One env: value: a plain string as written; a file's or a program's, sensitive."""
    if isinstance(source, str):
        return source
    if isinstance(source, FileSource):
        text = read(source.file if source.file.is_absolute() else base / source.file, where, field)
    else:
        text = run(source, base, where, field)
    text = text.removesuffix("\n").removesuffix("\r")
    masking.register(text)
    return text


def env_lines(source: EnvFile, base: Path, where: SourceLocation | None, field: str) -> dict[str, str]:
    """An env_files entry: NAME=VALUE lines from a file or a program, every value sensitive."""
    if isinstance(source, CommandSource):
        text, shown = run(source, base, where, field), source.command[0]
    else:
        path = source if source.is_absolute() else base / source
        text, shown = read(path, where, field), str(path)
    values = dotenv(text, shown)
    for secret in values.values():
        masking.register(secret)
    return values


def dotenv(text: str, shown: str) -> dict[str, str]:
    """NAME=VALUE lines (``#`` comments, blank lines, optional ``export`` and quotes), as dotenv reads them."""
    values = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, item = stripped.removeprefix("export ").partition("=")
        if not sep or not name.strip().isidentifier():
            raise ConfigError("expected NAME=VALUE", SourceLocation(shown, number, 1))
        item = item.strip()
        if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
            item = item[1:-1]
        values[name.strip()] = item
    return values
