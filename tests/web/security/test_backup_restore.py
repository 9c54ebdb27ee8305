"""backup writes an encrypted consistent image (0600 files in a 0700 folder) with an
HMAC-signed manifest; restore refuses anything altered or replaced, loads it into an empty
database and checks hashes and row counts (SQLite, and PostgreSQL when the suite runs on
it)."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import uuid

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.ops.backup_crypto import (
    DecryptionFailed,
    backup_keys,
    decrypt_stream,
    encrypt_stream,
)
from fibrosurvey.web.participants.models import ContactDetails, Participant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def filled(study, participant, participant_south, issued):
    return {
        "participants_participant": Participant.objects.count(),
        "audit_auditrecord": AuditRecord.objects.count(),
        "participants_contact_details": ContactDetails.objects.count(),
    }


@pytest.fixture
def target_url(tmp_path):
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    settings_dict = connection.settings_dict
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = dict(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    yield f"postgres://{settings_dict['USER']}@{host}:{port}/{name}"
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _restored_rows(url: str, table: str) -> list[tuple]:
    import dj_database_url

    target = dj_database_url.parse(url)
    if "sqlite" in target["ENGINE"]:
        with sqlite3.connect(target["NAME"]) as conn:
            return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def test_backup_then_restore_into_an_empty_database_matches_hashes_and_counts(
    filled, tmp_path, target_url
):
    out = io.StringIO()
    call_command("backup", str(tmp_path / "b1"), stdout=out)
    manifest = json.loads((tmp_path / "b1" / "manifest.json").read_text())
    for table, count in filled.items():
        assert manifest["tables"][table] == count
    assert len(next(iter(manifest["files"].values()))) == 64

    call_command("restore", str(tmp_path / "b1"), "--database-url", target_url, stdout=out)
    assert "restored and verified" in out.getvalue()
    restored = _restored_rows(target_url, "participants_participant")
    assert [row[0] for row in restored] == sorted(Participant.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM audit_auditrecord ORDER BY 1")
        original_audit = cursor.fetchall()
    assert len(_restored_rows(target_url, "audit_auditrecord")) == len(original_audit)


def test_restore_refuses_a_damaged_backup_and_a_non_empty_target(filled, tmp_path, target_url):
    call_command("backup", str(tmp_path / "b2"), stdout=io.StringIO())
    name = next((tmp_path / "b2").glob("database.*"))
    original = name.read_bytes()
    name.write_bytes(original[:-10] + b"0123456789")
    with pytest.raises(CommandError, match="does not match the manifest"):
        call_command("restore", str(tmp_path / "b2"), "--database-url", target_url)
    name.write_bytes(original)
    call_command(
        "restore", str(tmp_path / "b2"), "--database-url", target_url, stdout=io.StringIO()
    )
    with pytest.raises(CommandError, match="restore into"):
        call_command("restore", str(tmp_path / "b2"), "--database-url", target_url)


def test_backup_refuses_a_non_empty_directory(tmp_path, db):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(tmp_path / "old"))


def test_backup_files_are_private_and_the_dump_is_encrypted(filled, tmp_path, participant):
    folder = tmp_path / "b3"
    call_command("backup", str(folder), stdout=io.StringIO())
    assert folder.stat().st_mode & 0o777 == 0o700
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == sorted(["manifest.json", f"database.{_dump_suffix()}"])
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
    dump = folder / f"database.{_dump_suffix()}"
    content = dump.read_bytes()
    for plaintext in (b"SQLite format 3", b"PGDMP", b"pbkdf2_sha256", b"alice", b"auth_user"):
        assert plaintext not in content
    assert participant.study_code.encode() not in content


def _dump_suffix() -> str:
    return "pgdump.enc" if connection.vendor == "postgresql" else "sqlite3.enc"


def test_a_replaced_dump_is_refused_even_with_a_rewritten_manifest(filled, tmp_path, target_url):
    call_command("backup", str(tmp_path / "real"), stdout=io.StringIO())
    call_command("backup", str(tmp_path / "other"), stdout=io.StringIO())
    dump = tmp_path / "real" / f"database.{_dump_suffix()}"
    # The forger swaps in another file and fixes the hash in the manifest (no key, no HMAC).
    dump.write_bytes(b"not the database")
    manifest_path = tmp_path / "real" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][dump.name] = hashlib.sha256(b"not the database").hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="HMAC does not match"):
        call_command("restore", str(tmp_path / "real"), "--database-url", target_url)
    # A whole manifest from another backup does not sign this one's counts either.
    other = json.loads((tmp_path / "other" / "manifest.json").read_text())
    other["tables"]["participants_participant"] += 1
    manifest_path.write_text(json.dumps(other))
    with pytest.raises(CommandError, match="HMAC does not match"):
        call_command("restore", str(tmp_path / "real"), "--database-url", target_url)


def test_restore_needs_the_key_the_backup_was_made_with(filled, tmp_path, target_url):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(BACKUP_ENCRYPTION_KEY=old):
        call_command("backup", str(tmp_path / "b4"), stdout=io.StringIO())
    with (
        override_settings(BACKUP_ENCRYPTION_KEY=new),
        pytest.raises(CommandError, match="not in BACKUP_ENCRYPTION_KEY"),
    ):
        call_command("restore", str(tmp_path / "b4"), "--database-url", target_url)
    out = io.StringIO()
    with override_settings(BACKUP_ENCRYPTION_KEY=f"{new},{old}"):
        call_command("restore", str(tmp_path / "b4"), "--database-url", target_url, stdout=out)
    assert "restored and verified" in out.getvalue()


def test_backup_without_a_key_says_what_to_set(tmp_path, db):
    with (
        override_settings(BACKUP_ENCRYPTION_KEY=""),
        pytest.raises(CommandError, match="BACKUP_ENCRYPTION_KEY is not set"),
    ):
        call_command("backup", str(tmp_path / "nokey"))
    assert not (tmp_path / "nokey").exists()


@pytest.mark.parametrize("damage", ["cut short", "frame dropped", "byte flipped", "appended"])
def test_the_encrypted_stream_refuses_any_damage(damage, settings):
    key = backup_keys()[0]
    plain = bytes(range(256)) * 9000  # about 2.3 MB: three frames
    sealed = io.BytesIO()
    assert encrypt_stream(io.BytesIO(plain), sealed, key) == hashlib.sha256(plain).hexdigest()
    data = sealed.getvalue()
    out = io.BytesIO()
    assert decrypt_stream(io.BytesIO(data), out, key) and out.getvalue() == plain
    frame = (1 << 20) + 16 + 4
    header = len(data) - 2 * frame - (len(plain) - 2 * (1 << 20) + 16 + 4)
    damaged = {
        "cut short": data[: header + frame],
        "frame dropped": data[:header] + data[header + frame :],
        "byte flipped": data[:100] + bytes([data[100] ^ 1]) + data[101:],
        "appended": data + data[header : header + frame],
    }[damage]
    with pytest.raises(DecryptionFailed):
        decrypt_stream(io.BytesIO(damaged), io.BytesIO(), key)
