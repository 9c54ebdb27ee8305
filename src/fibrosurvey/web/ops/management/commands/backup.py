"""``backup DIRECTORY``: an encrypted, consistent database backup plus a signed manifest.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fibrosurvey.web.ops.backup import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump or the SQLite backup API), encrypted with "
        "BACKUP_ENCRYPTION_KEY, with an HMAC-signed manifest (hashes, row counts); "
        "folder 0700, files 0600."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="a new, empty directory for the backup")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = make_backup(Path(options["directory"]))
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(manifest.tables.values())
        self.stdout.write(
            f"backed up {len(manifest.tables)} tables, {rows} rows ({manifest.vendor}, encrypted) "
            f"to {options['directory']}"
        )
