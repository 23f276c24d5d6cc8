"""Journal records sealed one by one, each chained to the record before it.

A record's context holds its serial and a link to the previous sealed record (a digest
of its ciphertext; "" for the first one since the journal was emptied). A record taken
out, put back in another order or replaced breaks the next one's link; reading refuses
it, naming the record. Records cut off at the end are the high-water mark's to catch
(highwater.py); a torn last line — a write killed half-way — never counted and is
left to the journal file to drop, as for a plain journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from labform.engine.encryption.envelope import Envelope, is_sealed
from labform.engine.encryption.errors import EncryptionError
from labform.engine.encryption.target import Target

CONTENT = "journal record"


def link(sealed: Envelope) -> str:
    return hashlib.sha256(f"{sealed.get('nonce')}:{sealed.get('ciphertext')}".encode()).hexdigest()[:32]


class RecordChain:
    """Seals what one journal appends and opens what it holds; ``previous`` is the link the next record carries
    (None: not known yet, the journal's last record must be read first)."""

    def __init__(self, target: Target, source: str, refuse_plaintext: Callable[[], None]):
        self.target = target
        self.source = source
        # Raises unless a plaintext record may be read: enforced, or the state was written encrypted.
        self.refuse_plaintext = refuse_plaintext
        self.previous: str | None = None

    def seal(self, record: dict[str, Any]) -> Envelope:
        assert self.previous is not None, "resume() before the first seal of a journal that may hold records"
        context = {"serial": record["serial"], "previous": self.previous}
        plaintext = json.dumps(record, sort_keys=True, default=str).encode()
        sealed = self.target.seal(CONTENT, plaintext, context)
        self.previous = link(sealed)
        return sealed

    def resume(self, last: Any) -> None:
        """Go on after ``last``, the journal's last record (None: the journal is empty)."""
        self.previous = link(last) if is_sealed(last) else ""

    def open(self, items: list[Any]) -> list[dict[str, Any]]:
        """The records, in order; any record that does not authenticate or follow the one before is refused."""
        records: list[dict[str, Any]] = []
        previous: str | None = None  # None: only plaintext so far (a journal from before encryption)
        for number, item in enumerate(items, start=1):
            where = f"journal {self.source}, record {number}"
            if not is_sealed(item):
                if previous is not None:
                    raise EncryptionError(f"{where} is tampered: an unencrypted record follows encrypted ones")
                self.refuse_plaintext()
                records.append(item)
                continue
            context = item.get("context") if isinstance(item, dict) else None
            if not isinstance(context, dict) or context.get("previous") != (previous or ""):
                raise EncryptionError(
                    f"{where} is tampered: it does not follow the record before it "
                    "(a record was removed, reordered or replaced); nothing was written"
                )
            try:
                record = json.loads(self.target.open(item, where))
            except ValueError:
                raise EncryptionError(f"{where} is tampered: its content is not a record") from None
            if not isinstance(record, dict) or record.get("serial") != context.get("serial"):
                raise EncryptionError(f"{where} is tampered: its serial is not the one its header names")
            records.append(record)
            previous = link(item)
        self.previous = previous or ""
        return records
