"""The history's one error: the CLI prints it as ``Error: ...`` and exits 1."""

from labform.providers.errors import LabformError


class HistoryError(LabformError):
    """A history that cannot be read or written, a JUnit file that cannot be read, a shard request that cannot be met."""
