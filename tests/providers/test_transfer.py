"""Transfers as a CI log shows them."""

from __future__ import annotations

import pytest

from labform.providers.transfer import human_size


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 bytes"), (1023, "1023 bytes"), (1536, "1.5 KiB"), (419430400, "400.0 MiB"), (3 * 2**30, "3.0 GiB")],
)
def test_sizes_in_progress_lines_read_in_human_units(size, shown):
    assert human_size(size) == shown
