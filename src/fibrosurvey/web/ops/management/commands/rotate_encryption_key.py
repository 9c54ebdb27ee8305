"""``rotate_encryption_key``: re-encrypt contact details and kept survey links under the
newest key, in batches.

Rotation without downtime (MultiFernet):
1. deploy with FIELD_ENCRYPTION_KEY=NEW,OLD (new key first: it encrypts; both decrypt);
2. run this command: it rewrites each ciphertext with ``MultiFernet.rotate`` one small
   transaction per batch, so the application keeps reading and writing throughout;
3. when it reports every row under the new key, deploy with FIELD_ENCRYPTION_KEY=NEW.

Ciphertexts are read and written with raw SQL (never decrypted into Python objects
other than inside ``rotate``), and rows already under the new key are left alone.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from fibrosurvey.web.crypto import fernet
from fibrosurvey.web.participants.models import ContactDetails, Invitation
from fibrosurvey.web.survey.models import IdentifierAnswer

# Every encrypted column: contact details, the survey link a reminder re-sends, and the
# answers to identifier items.
TARGETS: tuple[tuple[type[Any], tuple[str, ...]], ...] = (
    (ContactDetails, ("email", "phone", "name")),
    (Invitation, ("token_encrypted",)),
    (IdentifierAnswer, ("value",)),
)


def _primary() -> Fernet:
    from django.conf import settings

    first = settings.FIELD_ENCRYPTION_KEY.split(",")[0].strip()
    return Fernet(first.encode())


def _is_current(primary: Fernet, token: str) -> bool:
    try:
        primary.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


class Command(BaseCommand):
    help = (
        "Re-encrypt every participant's contact details and kept survey links with the first "
        "FIELD_ENCRYPTION_KEY "
        "(put the new key first, run this, then remove the old key). Batched: no downtime."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument(
            "--max-batches", type=int, default=0, help="stop after this many batches (0: all)"
        )
        parser.add_argument(
            "--check", action="store_true", help="only count rows not yet under the newest key"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = 0
        for model, fields in TARGETS:
            stale += self._handle_model(model, fields, options)
        if options["check"] and stale:
            raise CommandError("run rotate_encryption_key without --check to re-encrypt them")

    def _handle_model(self, model: type[Any], fields: tuple[str, ...], options: Any) -> int:
        """Rotate (or with --check count) one model's encrypted columns; returns the number
        of rows not under the newest key (--check) or 0."""
        table = connection.ops.quote_name(model._meta.db_table)
        pk_column = model._meta.pk.column
        assert pk_column is not None  # a concrete model's primary key has a column
        pk = connection.ops.quote_name(pk_column)
        columns = ", ".join(connection.ops.quote_name(f) for f in fields)
        primary, rotator = _primary(), fernet()
        ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
        label = model._meta.verbose_name_plural
        if options["check"]:
            stale = self._stale_rows(table, pk, columns, ids, primary)
            self.stdout.write(f"{stale} of {len(ids)} rows are not under the newest key ({label})")
            return stale
        size = max(1, options["batch_size"])
        rotated = batches = 0
        for start in range(0, len(ids), size):
            if options["max_batches"] and batches >= options["max_batches"]:
                break
            batch = ids[start : start + size]
            with transaction.atomic():
                # Lock the batch so a concurrent edit is not overwritten with stale ciphertext.
                list(
                    model.objects.select_for_update()
                    .filter(pk__in=batch)
                    .values_list("pk", flat=True)
                )
                rotated += self._rotate_batch(table, pk, columns, fields, batch, primary, rotator)
            batches += 1
            self.stdout.write(
                f"batch {batches}: {min(start + size, len(ids))}/{len(ids)} rows ({label})"
            )
        self.stdout.write(f"re-encrypted {rotated} values in {batches} batches ({label})")
        return 0

    def _select(self, cursor: Any, table: str, pk: str, columns: str, batch: list[int]) -> Any:
        marks = ", ".join(["%s"] * len(batch))
        cursor.execute(f"SELECT {pk}, {columns} FROM {table} WHERE {pk} IN ({marks})", batch)
        return cursor.fetchall()

    def _rotate_batch(
        self,
        table: str,
        pk: str,
        columns: str,
        fields: tuple[str, ...],
        batch: list[int],
        primary: Fernet,
        rotator: Any,
    ) -> int:
        changed = 0
        with connection.cursor() as cursor:
            for row in self._select(cursor, table, pk, columns, batch):
                updates = {}
                for name, value in zip(fields, row[1:], strict=True):
                    if value and not _is_current(primary, value):
                        updates[name] = rotator.rotate(value.encode("ascii")).decode("ascii")
                if updates:
                    assignments = ", ".join(
                        f"{connection.ops.quote_name(name)} = %s" for name in updates
                    )
                    cursor.execute(
                        f"UPDATE {table} SET {assignments} WHERE {pk} = %s",
                        [*updates.values(), row[0]],
                    )
                    changed += len(updates)
        return changed

    def _stale_rows(
        self, table: str, pk: str, columns: str, ids: list[int], primary: Fernet
    ) -> int:
        stale = 0
        with connection.cursor() as cursor:
            for start in range(0, len(ids), 500):
                for row in self._select(cursor, table, pk, columns, ids[start : start + 500]):
                    if any(v and not _is_current(primary, v) for v in row[1:]):
                        stale += 1
        return stale
