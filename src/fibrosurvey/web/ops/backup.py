"""Encrypted, authenticated, consistent backups, and a restore that verifies everything.

- PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the row counts are taken
  in that transaction and ``pg_dump --snapshot`` dumps exactly the same snapshot, streamed
  straight into the encryptor (no plaintext file).
- SQLite: the online backup API copies a consistent image into memory, which is encrypted.

The dump holds password hashes, TOTP seeds, date-shift secrets and sessions, so: the
directory is 0700, every file 0600, the dump is AES-256-GCM encrypted with
BACKUP_ENCRYPTION_KEY (``backup_crypto``), and manifest.json (file hashes, row counts, key
id) carries an HMAC under that key: a replaced dump or manifest is refused by ``restore``
before anything is written to the target.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import sqlite3
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import connection
from django.utils import timezone

from fibrosurvey.web.ops.backup_crypto import (
    BackupKey,
    BackupKeyError,
    DecryptionFailed,
    backup_keys,
    decrypt_stream,
    encrypt_stream,
)

__all__ = ["BackupError", "Manifest", "make_backup", "restore_backup"]

FORMAT = "fibrosurvey-backup/2"


class BackupError(RuntimeError):
    """A backup or restore that cannot be trusted; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    vendor: str
    created_at: str
    tables: dict[str, int]
    files: dict[str, str]  # encrypted file -> SHA-256 of its bytes on disk
    plaintext: dict[str, str]  # encrypted file -> SHA-256 of the decrypted dump
    key_id: str

    def _body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "vendor": self.vendor,
            "created_at": self.created_at,
            "tables": self.tables,
            "files": self.files,
            "plaintext_sha256": self.plaintext,
            "key_id": self.key_id,
            "encryption": "AES-256-GCM, 1 MiB frames (fibrosurvey.web.ops.backup_crypto)",
        }

    @staticmethod
    def _canonical(body: dict[str, Any]) -> bytes:
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def to_json(self, key: BackupKey) -> str:
        body = self._body()
        return json.dumps(body | {"hmac": key.mac(self._canonical(body))}, indent=2, sort_keys=True)

    @classmethod
    def read(cls, directory: Path, keys: list[BackupKey]) -> tuple[Manifest, BackupKey]:
        """The manifest and the key it was made with, once its HMAC checks out."""
        path = directory / "manifest.json"
        if not path.exists():
            raise BackupError(f"{path} is missing: is {directory} a fibrosurvey backup?")
        try:
            data = json.loads(path.read_text())
        except ValueError:
            raise BackupError(f"{path} is not JSON: the manifest was damaged") from None
        if data.get("format") != FORMAT:
            raise BackupError(
                f"{path}: format {data.get('format')!r}, expected {FORMAT}; backups from "
                "before encryption (fibrosurvey-backup/1) restore with the release that made them"
            )
        key = next((k for k in keys if k.key_id == data.get("key_id")), None)
        if key is None:
            raise BackupError(
                f"{path}: made with backup key id {data.get('key_id')!r}, which is not in "
                "BACKUP_ENCRYPTION_KEY; add that key (after the current one) to restore"
            )
        claimed = str(data.pop("hmac", ""))
        if not hmac.compare_digest(key.mac(cls._canonical(data)), claimed):
            raise BackupError(
                f"{path}: the manifest's HMAC does not match: it was altered or replaced"
            )
        try:
            manifest = cls(
                data["vendor"],
                data["created_at"],
                data["tables"],
                data["files"],
                data["plaintext_sha256"],
                data["key_id"],
            )
        except KeyError as missing:
            raise BackupError(f"{path}: field {missing} is missing") from None
        return manifest, key


def _private_directory(directory: Path) -> None:
    """Create (or accept an empty) directory readable by the owner only."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty; back up into a new directory")
    directory.chmod(0o700)


def _private_file(path: Path) -> IO[bytes]:
    """A new file only its owner can read (O_EXCL: never overwrite, never follow a link)."""
    descriptor = os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
    )
    return os.fdopen(descriptor, "wb")


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


def _pg_env(settings_dict: Mapping[str, Any]) -> dict[str, str]:
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


def _signing_key() -> BackupKey:
    try:
        return backup_keys()[0]
    except BackupKeyError as error:
        raise BackupError(str(error)) from None


class _Stderr(threading.Thread):
    """Drain a child's stderr while its stdout/stdin is streamed (no pipe deadlock)."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.stream, self.text = stream, ""

    def run(self) -> None:
        self.text = self.stream.read().decode("utf-8", "replace").strip()


def _dump_postgres(target: Path, key: BackupKey, tables: list[str]) -> tuple[dict[str, int], str]:
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
            dump = subprocess.Popen(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-owner",
                    settings_dict["NAME"],
                ],
                env=_pg_env(settings_dict),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert dump.stdout is not None and dump.stderr is not None
            errors = _Stderr(dump.stderr)
            errors.start()
            with _private_file(target) as out:
                plain_sha256 = encrypt_stream(dump.stdout, out, key)
            returncode = dump.wait()
            errors.join()
            cursor.execute("COMMIT")
    finally:
        raw.autocommit = previous
    if returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {errors.text}")
    return counts, plain_sha256


def _dump_sqlite(target: Path, key: BackupKey, tables: list[str]) -> tuple[dict[str, int], str]:
    connection.ensure_connection()
    image = sqlite3.connect(":memory:")
    try:
        connection.connection.backup(image)
        counts = _counts(image.cursor(), tables)
        data = image.serialize()
    finally:
        image.close()
    with _private_file(target) as out:
        return counts, encrypt_stream(io.BytesIO(data), out, key)


def make_backup(directory: Path) -> Manifest:
    """Write an encrypted, consistent backup of the default database and its signed manifest
    into ``directory`` (created 0700; must be new or empty)."""
    key = _signing_key()
    if connection.vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"backups of {connection.vendor} databases are not supported")
    _private_directory(directory)
    tables = connection.introspection.table_names()
    created = timezone.now().isoformat()
    if connection.vendor == "postgresql":
        target = directory / "database.pgdump.enc"
        counts, plain_sha256 = _dump_postgres(target, key, tables)
    else:
        target = directory / "database.sqlite3.enc"
        counts, plain_sha256 = _dump_sqlite(target, key, tables)
    manifest = Manifest(
        connection.vendor,
        created,
        counts,
        {target.name: sha256_file(target)},
        {target.name: plain_sha256},
        key.key_id,
    )
    with _private_file(directory / "manifest.json") as out:
        out.write(manifest.to_json(key).encode("utf-8"))
    return manifest


def _target_counts_pg(url_settings: Mapping[str, Any], tables: list[str]) -> dict[str, int]:
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


def _restore_postgres(encrypted: Path, key: BackupKey, target: Mapping[str, Any]) -> str:
    if _target_counts_pg(target, []):
        raise BackupError(f"database {target['NAME']} is not empty; restore into an empty database")
    restore = subprocess.Popen(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target['NAME']}"],
        env=_pg_env(target),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert restore.stdin is not None and restore.stderr is not None
    errors = _Stderr(restore.stderr)
    errors.start()
    try:
        with encrypted.open("rb") as source:
            plain_sha256 = decrypt_stream(source, restore.stdin, key)
    except (DecryptionFailed, BrokenPipeError) as error:
        restore.kill()
        restore.wait()
        errors.join()
        raise BackupError(f"{encrypted.name}: {error} {errors.text}".strip()) from None
    finally:
        if not restore.stdin.closed:
            restore.stdin.close()
    returncode = restore.wait()
    errors.join()
    if returncode != 0:
        raise BackupError(f"pg_restore failed: {errors.text}")
    return plain_sha256


def _restore_sqlite(encrypted: Path, key: BackupKey, path: Path) -> str:
    if path.exists() and path.stat().st_size > 0:
        raise BackupError(f"{path} exists; restore into a new file")
    path.unlink(missing_ok=True)
    try:
        with encrypted.open("rb") as source, _private_file(path) as out:
            return decrypt_stream(source, out, key)
    except DecryptionFailed as error:
        path.unlink(missing_ok=True)
        raise BackupError(f"{encrypted.name}: {error}") from None


def restore_backup(directory: Path, database_url: str) -> Manifest:
    """Restore ``directory`` into the EMPTY database at ``database_url``; verify the
    manifest's HMAC and the file hashes before, the dump's hash and row counts after."""
    import dj_database_url

    try:
        keys = backup_keys()
    except BackupKeyError as error:
        raise BackupError(str(error)) from None
    manifest, key = Manifest.read(directory, keys)
    if len(manifest.files) != 1:
        raise BackupError("the manifest must list exactly one database file")
    ((name, expected),) = manifest.files.items()
    encrypted = directory / name
    if not encrypted.exists() or sha256_file(encrypted) != expected:
        raise BackupError(
            f"{name}: missing, or its SHA-256 does not match the manifest; the backup is "
            "damaged or the file was replaced"
        )
    target = dj_database_url.parse(database_url)
    engine = target["ENGINE"]
    if manifest.vendor == "postgresql":
        if "postgresql" not in engine:
            raise BackupError("a PostgreSQL backup restores only into PostgreSQL")
        plain_sha256 = _restore_postgres(encrypted, key, target)
        counts = _target_counts_pg(target, list(manifest.tables))
    elif manifest.vendor == "sqlite":
        if "sqlite" not in engine:
            raise BackupError("a SQLite backup restores only into SQLite")
        path = Path(target["NAME"])
        plain_sha256 = _restore_sqlite(encrypted, key, path)
        with sqlite3.connect(path) as conn:
            counts = _counts(conn.cursor(), list(manifest.tables))
    else:
        raise BackupError(f"unknown backup vendor {manifest.vendor!r}")
    if plain_sha256 != manifest.plaintext.get(name):
        raise BackupError(f"{name}: the decrypted dump does not match the manifest")
    if counts != manifest.tables:
        wrong = {
            t: (manifest.tables[t], counts.get(t))
            for t in manifest.tables
            if counts.get(t) != manifest.tables[t]
        }
        raise BackupError(f"row counts differ after restore (expected, found): {wrong}")
    return manifest
