"""The root of every labform error, and the errors providers raise.

    LabformError                 the root (the whole tree is drawn in engine/errors.py)
    ├── ProviderError(cloud, operation, status, message)
    │   ├── NotFoundError        the object is gone (404, or the cloud's equivalent)
    │   ├── Overdue              an answer did not arrive within its deadline (sent again when safe)
    │   └── AppliedWithError     the object exists now, but the step failed (a gate, a wait timeout)
    └── ArgumentError(field, message) an argument is wrong in a way only the provider can tell (a missing file)

The root lives here, in the bottom layer, so a provider's errors derive from
it while providers stay unaware of the engine above them.

``status`` is the HTTP status (or the cloud's own result code where it has one,
e.g. WeTest ``ret``); ``message`` is the cloud's text, never a credential.
"""

from __future__ import annotations


class LabformError(Exception):
    """Base of every error labform raises on purpose: the CLI shows it as "Error: ..." (exit code 1)."""


class ProviderError(LabformError):
    """``ambiguous``: the request may have been carried out although it failed (a POST
    answered 5xx, a connection dropped after sending, an unreadable answer), so the
    caller must look before trying again."""

    def __init__(self, cloud: str, operation: str, status: int | None, message: str, ambiguous: bool = False):
        self.cloud = cloud
        self.operation = operation
        self.status = status
        self.message = message
        self.ambiguous = ambiguous
        code = f" ({status})" if status is not None else ""
        super().__init__(f"{cloud}: {operation} failed{code}: {message}")


class NotFoundError(ProviderError):
    pass


class Overdue(ProviderError):
    """An answer still arriving at its attempt's deadline; the HTTP layer sends a safe request again."""


class AppliedWithError(ProviderError):
    """The remote object was made (state must record it), yet the change failed.

    A run that missed its gate or timed out waiting still exists: recording it
    means a re-apply does not start it again.
    """

    def __init__(self, cloud: str, operation: str, message: str, attrs: dict, tainted: bool = False):
        super().__init__(cloud, operation, None, message)
        self.attrs = attrs
        # The object cannot reach its desired state by an update (an upload the cloud
        # marked as failed): it is recorded tainted, and the next plan replaces it.
        self.tainted = tainted


class ArgumentError(LabformError):
    """An argument's value is unusable (e.g. a file that cannot be read); the engine adds file:line."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
