"""The README's commands work verbatim, as a CI runner would run them on a fresh clone.

Each command block marked with ``<!-- sandbox-test -->`` on the line before
its fence runs under ``bash -eo pipefail`` (the shell of GitHub's and GitLab's
steps, so a command that exits non-zero stops the block) from a fresh copy of
the repository root: the files git tracks, or would track, with no state,
sandbox data or reports. ``labform`` is the installed entry point on PATH.
Install lines and blocks that need a real cloud or database are not marked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MARK = "<!-- sandbox-test -->"
# A developer's own cloud settings or CI variables must not leak into the copy's commands.
FOREIGN_ENV = ("BITBAR_", "WETEST_", "APPTEST_", "KYARABEN_", "PERFECTO_", "GITHUB_", "LABFORM_", "NO_COLOR")


def marked_blocks(markdown: str) -> list[str]:
    """The body of each fenced block that follows a MARK line."""
    lines = markdown.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        assert lines[index + 1].startswith("```"), f"README line {index + 2}: {MARK} must be followed by a fenced block"
        body = []
        for text in lines[index + 2 :]:
            if text.startswith("```"):
                break
            body.append(text)
        blocks.append("\n".join(body))
    return blocks


def fresh_checkout(target: Path) -> Path:
    """What a clone would hold once the working tree is committed: tracked and not-ignored files."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():  # a file deleted in the working tree is still listed as cached
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def runner_env(**extra: str) -> dict[str, str]:
    """A CI runner's environment: the installed labform on PATH, quick sandbox jobs, nothing of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV)}
    return {**env, "LABFORM_SANDBOX_JOB_SECONDS": "1", **extra}


def run_in_bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


BLOCKS = marked_blocks((REPO / "README.md").read_text())


def test_the_readme_marks_its_sandbox_blocks():
    assert len(BLOCKS) >= 3
    assert shutil.which("labform"), "labform must be installed (pip install -e .) for the README's commands"


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_readme_block_runs_verbatim(block, tmp_path):
    checkout = fresh_checkout(tmp_path / "labform")
    result = run_in_bash(block, checkout, runner_env())
    assert result.returncode == 0, f"$ {block}\n{result.stdout}\n{result.stderr}"
