"""Appending to the audit chain: the only code that inserts audit records.

One call appends any number of records: it takes the chain head's row lock (an UPDATE:
the row lock on PostgreSQL, the write lock on SQLite), allocates the ids up front (the id
is part of the signed content), signs the records in order, inserts them in one
``bulk_create`` and moves the head. Called inside the caller's transaction, so a rolled-back
change leaves no audit record; the head lock is held from this call to that commit, which
is why callers append their audit records last (see participants' CSV import).

Works with the real models and with a migration's historical ones.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, models, transaction

from fibrosurvey.web.audit.chain import GENESIS, KEYED, keyed_digest
from fibrosurvey.web.audit.keys import signing_key

__all__ = ["append"]


def _allocate_ids(connection: Any, table: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return sorted(int(row[0]) for row in cursor.fetchall())
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")
        highest = int(cursor.fetchone()[0])
        # AUTOINCREMENT never reuses an id, even one whose row is gone; neither do we.
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        highest = max(highest, int(row[0]) if row else 0)
        return list(range(highest + 1, highest + 1 + count))


def append(
    record_model: type[models.Model],
    head_model: type[models.Model],
    records: list[Any],
    using: str = "default",
) -> list[Any]:
    """Sign and insert ``records`` (unsaved instances, ``at`` set) at the end of the chain."""
    if not records:
        return records
    key = signing_key()
    connection = connections[using]
    head_table = connection.ops.quote_name(head_model._meta.db_table)
    # No savepoint of its own: a failure here must undo the change being audited too.
    with transaction.atomic(using=using, savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {head_table} SET length = length + %s WHERE id = 1 RETURNING last_hash",
                [len(records)],
            )
            row = cursor.fetchone()
        if row is None:
            head_model._default_manager.using(using).create(
                pk=1, last_hash=GENESIS, length=len(records)
            )
            row = (GENESIS,)
        previous = str(row[0])
        ids = _allocate_ids(connection, record_model._meta.db_table, len(records))
        for record, record_id in zip(records, ids, strict=True):
            record.id = record_id
            record.prev_hash = previous
            record.key_id = key.key_id
            record.hash_version = KEYED
            record.record_hash = keyed_digest(record, key)
            previous = record.record_hash
        # A plain QuerySet: the model's own manager refuses bulk_create outside this module.
        models.QuerySet(model=record_model, using=using).bulk_create(records, batch_size=1000)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {head_table} SET last_hash = %s WHERE id = 1", [previous])
    return records
