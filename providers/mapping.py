"""Translate between a cloud's field names and labform argument names.

Each resource declares one ``FieldMap`` (labform name → cloud name); reading
and writing both go through it, so the two directions cannot disagree.
"""

from __future__ import annotations

from typing import Any


class FieldMap:
    def __init__(self, **names: str):
        self.to_cloud = dict(names)
        self.to_labform = {cloud: ours for ours, cloud in names.items()}

    def attrs(self, remote: dict[str, Any]) -> dict[str, Any]:
        """The labform attributes found in a cloud object."""
        return {ours: remote[cloud] for cloud, ours in self.to_labform.items() if cloud in remote}

    def params(self, desired: dict[str, Any], only: set[str] | None = None) -> dict[str, Any]:
        """Cloud parameters for the desired arguments that are set (and in ``only``)."""
        return {
            cloud: desired[ours]
            for ours, cloud in self.to_cloud.items()
            if ours in desired and desired[ours] is not None and (only is None or ours in only)
        }
