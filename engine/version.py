"""The installed labform's version, as Terraform names its own in ``terraform_version``."""

from __future__ import annotations


def labform_version() -> str:
    from importlib import metadata  # a tenth of `labform --help`'s start-up: only when asked

    try:
        return metadata.version("labform")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"
