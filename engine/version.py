"""The installed labform's version, as Terraform names its own in ``terraform_version``."""

from __future__ import annotations

from importlib import metadata


def labform_version() -> str:
    try:
        return metadata.version("labform")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
