"""The one error type providers raise.

    ProviderError(cloud, operation, status, message)
    └── NotFoundError            the object is gone (404, or the cloud's equivalent)

``status`` is the HTTP status (or the cloud's own result code where it has one,
e.g. WeTest ``ret``); ``message`` is the cloud's text, never a credential.
"""

from __future__ import annotations


class ProviderError(Exception):
    def __init__(self, cloud: str, operation: str, status: int | None, message: str):
        self.cloud = cloud
        self.operation = operation
        self.status = status
        self.message = message
        code = f" ({status})" if status is not None else ""
        super().__init__(f"{cloud}: {operation} failed{code}: {message}")


class NotFoundError(ProviderError):
    pass
