"""A workspace's repository, fetched and checked out into the cache with the ``git`` CLI.

One clone per workspace (``<cache_dir>/<workspace>``), reused: each reconcile fetches
just the ref, checks it out detached and removes anything git does not track, so what
is planned is exactly the commit. The per-workspace lock (docs/reconcile.md) keeps two
reconciles of one workspace off one clone. git never prompts (``GIT_TERMINAL_PROMPT=0``);
an SSH key file goes through ``GIT_SSH_COMMAND``, a token through an HTTP header given in
the environment (never on the command line, where ``ps`` would show it).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from labform.engine.errors import LabformError
from labform.engine.reconcile.config import GitAuth
from labform.providers import masking

TIMEOUT = 300.0  # seconds for one git command: a hung remote is a failure, not a stuck worker


class GitError(LabformError):
    pass


@dataclass(frozen=True)
class Checkout:
    root: Path
    commit: str


def _environment(auth: GitAuth) -> dict[str, str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    if auth.ssh_key_file is not None:
        key = shlex.quote(str(auth.ssh_key_file))
        env["GIT_SSH_COMMAND"] = f"ssh -i {key} -o IdentitiesOnly=yes -o BatchMode=yes"
    if auth.token_env is not None:
        token = os.environ.get(auth.token_env)
        if not token:
            raise GitError(f"git.token_env names {auth.token_env}, which is not set")
        masking.register(token)
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"Authorization: Bearer {token}",
        )
    return env


def _git(folder: Path, env: dict[str, str], *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args], env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish in {TIMEOUT:.0f}s") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed (exit {done.returncode}): {masking.redact(said[-1] if said else '')}")
    return done.stdout.strip()


def sync(repo: str, ref: str, folder: Path, auth: GitAuth) -> Checkout:
    """``ref`` of ``repo`` checked out alone in ``folder`` (cloned there the first time)."""
    env = _environment(auth)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / ".git").is_dir():
        _git(folder, env, "init", "--quiet")
    remotes = _git(folder, env, "remote").split()
    _git(folder, env, "remote", "set-url" if "origin" in remotes else "add", "origin", repo)
    _git(folder, env, "fetch", "--quiet", "--force", "--no-tags", "--depth=1", "origin", ref)
    return _checked_out(folder, env, "FETCH_HEAD")


def at_commit(repo: str, commit: str, folder: Path, auth: GitAuth) -> Checkout:
    """The clone at ``commit`` (already fetched by the reconcile that planned it, or fetched now)."""
    env = _environment(auth)
    try:
        return _checked_out(folder, env, commit)
    except GitError:
        sync(repo, commit, folder, auth)
        return _checked_out(folder, env, commit)


def _checked_out(folder: Path, env: dict[str, str], what: str) -> Checkout:
    _git(folder, env, "checkout", "--quiet", "--force", "--detach", what)
    _git(folder, env, "clean", "--quiet", "--force", "-d", "-x")
    return Checkout(folder, _git(folder, env, "rev-parse", "HEAD"))
