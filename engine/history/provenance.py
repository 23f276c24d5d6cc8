"""Which commit a result ran on and whether CI recorded it: from the CI environment, else git.

A result with neither a commit nor a run to group it by could not tell a
broken test from a flaky one, so the commit is looked for where each CI
system puts it, then asked of git in the plan folder; None when neither knows.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from labform.engine.history.results import Source

# Where each CI system puts the commit it builds, in the order they are looked at.
COMMIT_VARIABLES = (
    "GITHUB_SHA",  # GitHub Actions
    "CI_COMMIT_SHA",  # GitLab CI, Woodpecker
    "BUILDKITE_COMMIT",
    "CIRCLE_SHA1",
    "BITBUCKET_COMMIT",
    "BUILD_SOURCEVERSION",  # Azure Pipelines
    "TRAVIS_COMMIT",
    "DRONE_COMMIT_SHA",
    "GIT_COMMIT",  # Jenkins' git plugin
)


def current_commit(folder: Path) -> str | None:
    """The CI environment's commit, else ``git rev-parse HEAD`` in ``folder``, else None."""
    for name in COMMIT_VARIABLES:
        if value := os.environ.get(name, "").strip():
            return value
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):  # no git, no such folder, a hung repository
        return None
    return found.stdout.strip() or None if found.returncode == 0 else None


def current_source() -> Source:
    """ "ci" where a CI system says so (``CI`` set, as every major one sets it), else "local"."""
    return "local" if os.environ.get("CI", "").strip().lower() in ("", "false", "0") else "ci"
