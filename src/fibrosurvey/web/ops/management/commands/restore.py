"""``restore DIRECTORY --database-url URL``: restore a backup into an empty database and
check the file hashes before and the row counts after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fibrosurvey.web.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into an EMPTY database: check the manifest HMAC and "
        "file hashes first, decrypt with BACKUP_ENCRYPTION_KEY, then check hashes and row counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory")
        parser.add_argument(
            "--database-url",
            required=True,
            help="target, e.g. postgres://postgres@127.0.0.1:5432/restored or sqlite:///new.db",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = restore_backup(Path(options["directory"]), options["database_url"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(manifest.tables.values())
        self.stdout.write(
            f"restored and verified {len(manifest.tables)} tables, {rows} rows; hashes match"
        )
