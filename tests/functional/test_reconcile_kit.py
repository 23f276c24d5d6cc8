"""What the reconcile tests share (no tests of its own): a real git repository holding plans, a throwaway PostgreSQL
database, and a labform.reconcile.yaml pointing one at the other."""

from __future__ import annotations

import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.fixtures.postgres import SERVER

QUICKSTART = Path(__file__).resolve().parents[2] / "plans" / "bitbar-quickstart" / "main.yaml"


class Repo:
    """A git repository made with the git CLI, committed to as a user would."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def commit(self, files: dict[str, str], message: str = "change") -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD")


def database_url(server: str, name: str) -> str:
    return server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def reconcile_db(postgres_server: str) -> Iterator[str]:
    """A database of its own (the queue's schema and the reconciliations live in it), dropped afterwards."""
    name = f"reconcile_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield database_url(SERVER, name)
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    made = Repo(tmp_path / "plans-repo")
    made.commit({"quickstart/main.yaml": QUICKSTART.read_text()}, "quickstart")
    return made


def write_config(folder: Path, database: str, workspaces: str, extra: str = "") -> Path:
    """labform.reconcile.yaml in ``folder``: the database, ``extra`` top-level keys, the workspaces block."""
    file = folder / "labform.reconcile.yaml"
    file.write_text(
        f"database: {database}\n{textwrap.dedent(extra)}workspaces:\n{textwrap.indent(textwrap.dedent(workspaces), '  ')}"
    )
    return file
