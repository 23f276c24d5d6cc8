"""A reconciliation's payload sealed in its row, when the ``reconciliations`` encryption target is configured.

The columns that can carry the plan's content (drift, applied, policy, error, report, and a
saved plan the *plan* target left plain) are each written as one envelope: a jsonb column as
``{"sealed": envelope}``, a text column as the envelope's text (its first line the magic).
What the loop schedules by and ``status`` lists stays in clear: id, workspace, worker, the
times, commit, outcome and summary (the plan's counts: numbers, never names).

Each envelope's authenticated context names its workspace, reconciliation and column, so a
sealed value copied into another row or column is refused, and says whether the target was
enforced: the newest encrypted row tells a process without the key that it may not write
plain rows (``Records.start``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from labform.engine.encryption import envelope
from labform.engine.encryption.errors import EncryptionError

if TYPE_CHECKING:
    from labform.engine.encryption.target import Target

CONTENT = "reconciliation"
SEALED = "sealed"
JSON_COLUMNS = ("drift", "applied", "policy", "saved_plan")
TEXT_COLUMNS = ("error", "report")
COLUMNS = (*JSON_COLUMNS, *TEXT_COLUMNS)
_SOURCE = "the record"
UNCONFIGURED = (
    "no reconciliations encryption is configured (encryption: in the reconcile configuration, or LABFORM_ENCRYPTION)"
)
# The newest row sealed by any process: whether it was written under enforced, with which key provider.
NEWEST_SEALED = """SELECT id, workspace, drift FROM labform_reconciliations
                    WHERE drift ? 'sealed' ORDER BY id DESC LIMIT 1"""


def _context(workspace: str, number: int, column: str, enforced: bool) -> dict[str, Any]:
    return {"workspace": workspace, "reconciliation": number, "column": column, "enforced": enforced}


def _kept_as_is(column: str, value: Any) -> bool:
    """None (there is nothing to hide), or a saved plan the plan target sealed (kept as its file is)."""
    return value is None or (column == "saved_plan" and envelope.is_sealed(value.get(SEALED)))


def seal(target: Target, workspace: str, number: int, column: str, value: Any) -> Any:
    """``value`` (already redacted) as the column holds it sealed; None stays None (there is nothing to hide)."""
    if _kept_as_is(column, value):
        return value
    plaintext = value if column in TEXT_COLUMNS else json.dumps(value, default=str)
    sealed = target.seal(CONTENT, plaintext.encode(), _context(workspace, number, column, target.enforced))
    return envelope.to_text(sealed) if column in TEXT_COLUMNS else {SEALED: sealed}


def _newest_header(newest: dict[str, Any]) -> dict[str, Any]:
    document = newest["drift"][SEALED]
    return document if isinstance(document, dict) else {}


def was_enforced(newest: dict[str, Any]) -> bool:
    context = _newest_header(newest).get("context")
    return isinstance(context, dict) and context.get("enforced") is True


def check_key(target: Target, newest: dict[str, Any]) -> None:
    """The newest row sealed with this target's key provider opens with its key (EncryptionError if not).

    A worker with a mistyped passphrase would otherwise write rows no other process can
    read; and opening it first makes this process write with that row's salt, so ``status``
    derives one key for all of them, not one per process that wrote."""
    document = _newest_header(newest)
    if document.get("key_provider") == target.method.provider.name:
        target.open(document, f"reconciliation #{newest['id']}")


def _document(column: str, stored: Any) -> Any:
    """The envelope ``stored`` holds if this module sealed it, else None (plain, or a plan target's saved plan)."""
    if column in TEXT_COLUMNS:
        if isinstance(stored, str) and envelope.is_sealed_text(stored):
            try:
                return envelope.from_text(stored)
            except ValueError:
                return {}  # a damaged envelope: opening it says so
        return None
    if isinstance(stored, dict) and set(stored) == {SEALED}:
        inner = stored[SEALED]
        return inner if not isinstance(inner, dict) or inner.get("content") == CONTENT else None
    return None


def opened(target: Target | None, row: dict[str, Any]) -> dict[str, str]:
    """Each sealed column of ``row`` replaced by its content, in place; those it cannot open are set to
    None and returned, column by column, with why: "(encrypted: cannot decrypt with PROVIDER: WHY)"."""
    unreadable: dict[str, str] = {}
    for column in COLUMNS:
        document = _document(column, row.get(column))
        if document is None:
            continue
        row[column] = None
        named = envelope.describe(document).rsplit("key provider ", 1)[-1]
        try:
            if target is None:
                raise EncryptionError(UNCONFIGURED)
            plaintext = target.open(document, _SOURCE).decode()
            context = _context(row["workspace"], row["id"], column, bool(document["context"].get("enforced")))
            if document["context"] != context:
                was = document["context"]
                raise EncryptionError(
                    f"it was sealed as the {was.get('column')} of reconciliation #{was.get('reconciliation')} "
                    f"of '{was.get('workspace')}', and copied here"
                )
        except EncryptionError as exc:
            why = str(exc).removesuffix("; nothing was written").removeprefix(f"cannot decrypt {_SOURCE}: ")
            unreadable[column] = f"(encrypted: cannot decrypt with {named}: {why})"
            continue
        row[column] = plaintext if column in TEXT_COLUMNS else json.loads(plaintext)
    return unreadable


def resealed(target: Target, row: dict[str, Any]) -> dict[str, Any]:
    """The columns of a finished ``row`` (as read) that the target would not write as they are, sealed as it
    would now: plain ones, and those another key (a rotation's fallback) or another ``enforced`` sealed.

    Each is opened first, with its row checked as ``opened`` checks it: one that cannot be (a wrong key,
    tampered, copied from another row) is an EncryptionError naming the row, so a rekey never seals
    anew what it could not read."""

    def current(column: str) -> bool:
        document = _document(column, row[column])
        if document is None:
            return _kept_as_is(column, row[column])
        if not isinstance(document, dict):
            return False  # damaged: opening it says so
        context = document.get("context")
        return (
            document.get("key_provider") == target.method.provider.name
            and isinstance(context, dict)
            and context.get("enforced") is target.enforced
        )

    stale = [column for column in COLUMNS if row.get(column) is not None and not current(column)]
    if not stale:
        return {}
    values = dict(row)
    for column, why in opened(target, values).items():
        raise EncryptionError(f"reconciliation #{row['id']} of '{row['workspace']}': its {column} {why}")
    return {column: seal(target, row["workspace"], row["id"], column, values[column]) for column in stale}
