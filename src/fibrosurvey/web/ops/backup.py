"""Consistent backups with a manifest (SHA-256 per file, row count per table) and a
restore that refuses a non-empty target and checks both afterwards.

- PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the row counts are taken
  in that transaction and ``pg_dump --snapshot`` dumps exactly the same snapshot.
- SQLite: the online backup API copies a consistent image; counts come from the copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

__all__ = ["BackupError", "Manifest", "make_backup", "restore_backup"]

FORMAT = "fibrosurvey-backup/1"


class BackupError(RuntimeError):
    """A backup or restore that cannot be trusted; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    vendor: str
    created_at: str
    tables: dict[str, int]
    files: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "vendor": self.vendor,
                "created_at": self.created_at,
                "tables": self.tables,
                "files": self.files,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / "manifest.json"
        if not path.exists():
            raise BackupError(f"{path} is missing: is {directory} a fibrosurvey backup?")
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise BackupError(f"{path}: unknown format {data.get('format')!r}; expected {FORMAT}")
        return cls(data["vendor"], data["created_at"], data["tables"], data["files"])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    return env


def make_backup(directory: Path) -> Manifest:
    """Write a consistent backup of the default database and its manifest into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; back up into a new directory")
    tables = connection.introspection.table_names()
    created = timezone.now().isoformat()
    if connection.vendor == "postgresql":
        target = directory / "database.pgdump"
        connection.ensure_connection()
        raw = connection.connection
        previous = raw.autocommit
        raw.autocommit = False
        try:
            with raw.cursor() as cursor:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                counts = _counts(cursor, tables)
                settings_dict = connection.settings_dict
                result = subprocess.run(
                    [
                        "pg_dump",
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        "--no-owner",
                        f"--file={target}",
                        settings_dict["NAME"],
                    ],
                    env=_pg_env(settings_dict),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                cursor.execute("COMMIT")
        finally:
            raw.autocommit = previous
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    elif connection.vendor == "sqlite":
        target = directory / "database.sqlite3"
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
            counts = _counts(destination.cursor(), tables)
        finally:
            destination.close()
    else:
        raise BackupError(f"backups of {connection.vendor} databases are not supported")
    manifest = Manifest(connection.vendor, created, counts, {target.name: sha256_file(target)})
    (directory / "manifest.json").write_text(manifest.to_json())
    return manifest


def _target_counts_pg(url_settings: dict[str, Any], tables: list[str]) -> dict[str, int]:
    import psycopg

    with (
        psycopg.connect(
            dbname=url_settings["NAME"],
            host=url_settings.get("HOST") or None,
            port=url_settings.get("PORT") or None,
            user=url_settings.get("USER") or None,
            password=url_settings.get("PASSWORD") or None,
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        present = {row[0] for row in cursor.fetchall()}
        return (
            _counts(cursor, [t for t in tables if t in present])
            if tables
            else {t: -1 for t in present}
        )


def restore_backup(directory: Path, database_url: str) -> Manifest:
    """Restore ``directory`` into the EMPTY database at ``database_url``; verify afterwards."""
    import dj_database_url

    manifest = Manifest.read(directory)
    for name, expected in manifest.files.items():
        actual = sha256_file(directory / name)
        if actual != expected:
            raise BackupError(
                f"{name}: SHA-256 {actual} does not match the manifest; the backup is damaged"
            )
    target = dj_database_url.parse(database_url)
    engine = target["ENGINE"]
    if manifest.vendor == "postgresql":
        if "postgresql" not in engine:
            raise BackupError("a PostgreSQL backup restores only into PostgreSQL")
        if _target_counts_pg(target, []):
            raise BackupError(
                f"database {target['NAME']} is not empty; restore into an empty database"
            )
        result = subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={target['NAME']}",
                str(directory / "database.pgdump"),
            ],
            env=_pg_env(target),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        counts = _target_counts_pg(target, list(manifest.tables))
    elif manifest.vendor == "sqlite":
        if "sqlite" not in engine:
            raise BackupError("a SQLite backup restores only into SQLite")
        path = Path(target["NAME"])
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} exists; restore into a new file")
        shutil.copyfile(directory / "database.sqlite3", path)
        if sha256_file(path) != manifest.files["database.sqlite3"]:
            raise BackupError(f"{path}: the copy does not match the backup")
        with sqlite3.connect(path) as conn:
            counts = _counts(conn.cursor(), list(manifest.tables))
    else:
        raise BackupError(f"unknown backup vendor {manifest.vendor!r}")
    if counts != manifest.tables:
        wrong = {
            t: (manifest.tables[t], counts.get(t))
            for t in manifest.tables
            if counts.get(t) != manifest.tables[t]
        }
        raise BackupError(f"row counts differ after restore (expected, found): {wrong}")
    return manifest
