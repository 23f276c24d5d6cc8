"""Two runners first using a fresh state database at once: both proceed, one after the other, no exception."""

from __future__ import annotations

import pytest

from tests.fixtures.first_use import trial


@pytest.mark.parametrize("attempt", range(5))
def test_two_runners_first_using_a_fresh_database(postgres_server: str, attempt: int):
    """Both queue on the schema lock while a third session holds it; let go, both read an empty state."""
    assert trial(postgres_server) == []
