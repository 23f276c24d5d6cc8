"""``labform reconcile rekey``: every finished reconciliation's payload sealed under the current key at once.

After a rotation (the new method, the old one as its ``fallback``) or when the target is
first configured, the rows already written are under the old key or plain; this seals
them as a worker would now write them (sealing.resealed), all in one transaction, so
the fallback can be retired at once. A row it cannot open stops it, and nothing is
written. Rows still in progress are left to the worker that will finish them.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql
from psycopg.types.json import Jsonb

from labform.engine.encryption.errors import EncryptionError
from labform.engine.reconcile import sealing
from labform.engine.reconcile.records import Records

BATCH = 200  # rows read at a time: a long history is not held in memory at once


@dataclass
class Rekeyed:
    finished: int  # finished reconciliations read
    rewritten: int  # of those, the ones sealed anew
    running: int  # in progress, left to their workers
    sealed_with: str  # "aes_gcm, key provider pbkdf2.new"


def rekey(records: Records) -> Rekeyed:
    target = records.target
    if target is None:
        raise EncryptionError(sealing.UNCONFIGURED)
    target.method.provider.encryption_key()  # a missing passphrase or failing program: before anything is read
    finished = rewritten = 0
    with records.connect() as conn, conn.transaction():
        last = 0
        while rows := conn.execute(
            "SELECT * FROM labform_reconciliations WHERE outcome IS NOT NULL AND id > %s ORDER BY id LIMIT %s",
            (last, BATCH),
        ).fetchall():
            for row in rows:
                changed = sealing.resealed(target, row)
                if changed:
                    assignments = sql.SQL(", ").join(
                        sql.SQL("{} = %s").format(sql.Identifier(column)) for column in changed
                    )
                    values = [v if column in sealing.TEXT_COLUMNS else Jsonb(v) for column, v in changed.items()]
                    conn.execute(
                        sql.SQL("UPDATE labform_reconciliations SET {} WHERE id = %s").format(assignments),
                        (*values, row["id"]),
                    )
                    rewritten += 1
            finished += len(rows)
            last = rows[-1]["id"]
        running = conn.execute("SELECT count(*) AS n FROM labform_reconciliations WHERE outcome IS NULL").fetchone()
    return Rekeyed(finished, rewritten, int(running["n"]) if running else 0, target.describe())
