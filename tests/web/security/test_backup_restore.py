"""backup writes a consistent image with a manifest; restore loads it into an empty database
and checks hashes and row counts (SQLite, and PostgreSQL when the suite runs on it)."""

from __future__ import annotations

import io
import json
import sqlite3
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from fibrosurvey.web.audit.models import AuditRecord
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
