"""kyaraben's asynchronous objects: what their statuses mean, and waiting on them.

Projects, VMs, uploads, compilations and commands all answer at once and
then move through statuses (QUEUED → CREATING → READY, ...). A create waits
for READY before it returns, so what depends on the object finds it usable;
it records the object (``ctx.record``) as soon as it exists and after each
later step, so a failure or a kill in between never leads to a twin.

    project = await_status(ctx, lambda: client.project(id), f"project {id}")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labform.providers.base import Context
from labform.providers.errors import NotFoundError, ProviderError
from labform.providers.kyaraben.client import CLOUD
from labform.providers.polling import WaitTimeout, wait_for

READY = "READY"
ERROR = "ERROR"
# An object being deleted, or deleted and still listed, is gone for labform.
GONE = frozenset({"DELETING", "DELETED"})


def is_gone(remote: dict[str, Any], key: str = "status") -> bool:
    return remote.get(key) in GONE


def live(attrs: dict[str, Any] | None) -> dict[str, Any] | None:
    """The object, or None if it is being deleted (or deleted and still listed): gone for labform."""
    return None if attrs is None or is_gone(attrs) else attrs


def describe(remote: dict[str, Any], key: str = "status", reason_key: str = "status_reason") -> str:
    reason = remote.get(reason_key)
    return f"{remote.get(key)}" + (f" ({reason})" if reason else "")


def await_status(
    ctx: Context,
    fetch: Callable[[], dict[str, Any]],
    what: str,
    *,
    key: str = "status",
    reason_key: str = "status_reason",
    error_is_final: bool = True,
) -> dict[str, Any]:
    """Poll ``fetch`` until ``key`` is READY; ERROR stops the wait unless it is retried by the
    cloud (``error_is_final=False``, as for VMs). Returns the last answer; a timeout is a
    ProviderError naming the last status and its reason."""
    settings = ctx.settings
    final = (READY, ERROR) if error_is_final else (READY,)
    try:
        return wait_for(
            fetch,
            done=lambda remote: remote.get(key) in final or remote.get(key) in GONE,
            timeout=settings.wait_timeout,
            poll=settings.poll,
            describe=lambda remote: f"{what}: {describe(remote, key, reason_key)}",
            progress=ctx.progress,
        )
    except WaitTimeout as timeout:
        last = describe(timeout.last, key, reason_key)
        raise ProviderError(
            CLOUD, f"wait for {what}", None, f"not {READY} within {settings.wait_timeout:.0f}s (last: {last})"
        ) from None


def await_gone(
    ctx: Context, fetch: Callable[[], dict[str, Any]], what: str, *, reason_key: str = "status_reason"
) -> dict[str, Any] | None:
    """Poll after a delete until the object is gone (404 or DELETED): None then. An ERROR
    status ends the wait too and is returned, so the caller can say why the cloud refused."""

    def current() -> dict[str, Any] | None:
        try:
            return fetch()
        except NotFoundError:
            return None

    settings = ctx.settings
    try:
        last = wait_for(
            current,
            done=lambda remote: remote is None or remote.get("status") in ("DELETED", ERROR),
            timeout=settings.wait_timeout,
            poll=settings.poll,
            describe=lambda remote: (
                f"{what}: {'deleted' if remote is None else describe(remote, reason_key=reason_key)}"
            ),
            progress=ctx.progress,
        )
    except WaitTimeout as timeout:
        raise ProviderError(
            CLOUD,
            f"wait for {what} to go",
            None,
            f"still there after {settings.wait_timeout:.0f}s (last: {describe(timeout.last or {})})",
        ) from None
    return None if last is None or last.get("status") == "DELETED" else last
