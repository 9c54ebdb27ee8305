"""The audit trail is append-only and tamper-evident: every column of every record is
signed with a key the database does not hold, the database refuses UPDATE and DELETE, and
anchors kept outside the database show a trail that was cut short or rebuilt.

Each forgery scenario of the audit (issue 10 #5 and #6) has its own test; the forger is
"the database owner": full SQL access, triggers bypassed, but no AUDIT_HMAC_KEY."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import io
import itertools
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from fibrosurvey.web.audit.chain import GENESIS, KEYED, LEGACY, canonical_json, legacy_digest
from fibrosurvey.web.audit.keys import key_id_of, signing_key
from fibrosurvey.web.audit.models import AuditChainHead, AuditRecord, AuditTrailIsAppendOnly
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.audit.triggers import install_sql, remove_sql

OLD_KEY = "old-audit-key-" + "o" * 40
NEW_KEY = "new-audit-key-" + "n" * 40


@pytest.fixture
def trail(study, users):
    for n in range(5):
        record(
            "update",
            actor=users["alice"],
            study=study,
            object_type="x",
            object_id=n,
            before={"n": n},
            after={"n": n + 1, "ü": [1.5, None]},
        )
    return list(AuditRecord.objects.order_by("id"))


def _verify(*anchors: str) -> str:
    out = io.StringIO()
    arguments = [item for path in anchors for item in ("--anchor", path)]
    call_command("verify_audit", *arguments, stdout=out)
    return out.getvalue()


def _anchor(path) -> None:  # type: ignore[no-untyped-def]
    call_command("audit_anchor", str(path), stdout=io.StringIO())


def _raw(sql: str, params: list | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _as_database_owner(*statements: tuple[str, list]) -> None:
    """Run statements the way the database owner can: with the triggers out of the way."""
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            for sql in remove_sql(vendor):
                cursor.execute(sql)
        for sql, params in statements:
            cursor.execute(sql, params)
        if vendor == "sqlite":
            for sql in install_sql(vendor):
                cursor.execute(sql)


def _forge_from(record_id: int, digest) -> None:  # type: ignore[no-untyped-def]
    """Re-hash every record from ``record_id`` on with ``digest(record, prev)`` and move
    the head, as a forger without the key would."""
    previous = AuditRecord.objects.filter(id__lt=record_id).order_by("-id").first()
    prev_hash = previous.record_hash if previous else GENESIS
    statements = []
    for forged in AuditRecord.objects.filter(id__gte=record_id).order_by("id"):
        forged.prev_hash = prev_hash
        prev_hash = digest(forged, prev_hash)
        statements.append(
            (
                "UPDATE audit_auditrecord SET prev_hash = %s, record_hash = %s WHERE id = %s",
                [forged.prev_hash, prev_hash, forged.id],
            )
        )
    statements.append(("UPDATE audit_auditchainhead SET last_hash = %s", [prev_hash]))
    _as_database_owner(*statements)


def test_every_column_of_a_record_is_covered_by_its_signature(trail):
    last = AuditRecord.objects.order_by("id").last()
    columns = {f.attname for f in AuditRecord._meta.concrete_fields} - {"record_hash"}
    values = {name: getattr(last, name) for name in columns}
    values["at"] = last.at.isoformat(timespec="microseconds")
    expected = hmac.new(
        signing_key().secret,
        json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(),
        hashlib.sha256,
    ).hexdigest()
    assert last.record_hash == expected
    assert (last.hash_version, last.key_id) == (KEYED, signing_key().key_id)
    assert last.actor_id is not None and last.study_id is not None
    assert AuditRecord.objects.order_by("id").first().prev_hash == GENESIS
    for previous, current in itertools.pairwise(trail):
        assert current.prev_hash == previous.record_hash
    assert "audit chain intact: " in _verify()


def test_the_application_cannot_edit_or_delete_audit_records(trail):
    one = trail[2]
    original = one.action
    one.action = "delete"
    with pytest.raises(AuditTrailIsAppendOnly):
        one.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        one.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditRecord.objects.filter(pk=one.pk).update(action="delete")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditRecord.objects.all().delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditRecord.objects.bulk_create([AuditRecord(action="login")])
    assert AuditRecord.objects.get(pk=one.pk).action == original


def test_admin_offers_no_change_or_delete(trail, users, client):
    users["alice"].is_superuser = users["alice"].is_staff = True
    users["alice"].save()
    client.force_login(users["alice"])
    change = client.post(f"/admin/audit/auditrecord/{trail[0].pk}/change/", {"action": "x"})
    delete = client.post(f"/admin/audit/auditrecord/{trail[0].pk}/delete/", {"post": "yes"})
    assert change.status_code in {302, 403} or b"delete" not in change.content
    assert delete.status_code == 403
    assert AuditRecord.objects.filter(pk=trail[0].pk).exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditrecord SET actor_id = NULL WHERE id = %s",
        "UPDATE audit_auditrecord SET study_id = NULL WHERE id = %s",
        "UPDATE audit_auditrecord SET object_id = '99' WHERE id = %s",
        "DELETE FROM audit_auditrecord WHERE id = %s",
    ],
)
def test_the_database_refuses_every_update_and_delete_of_a_record(trail, statement):
    with pytest.raises(Exception, match=r"audit records cannot be (changed|deleted)"):
        _raw(statement, [trail[2].pk])
    kept = AuditRecord.objects.get(pk=trail[2].pk)
    assert (kept.actor_id, kept.study_id, kept.object_id) == (
        trail[2].actor_id,
        trail[2].study_id,
        trail[2].object_id,
    )


@pytest.mark.parametrize("column", ["actor_id", "study_id"])
def test_erased_attribution_is_detected(trail, column):
    _as_database_owner(
        (f"UPDATE audit_auditrecord SET {column} = NULL WHERE id >= %s", [trail[1].pk])
    )
    with pytest.raises(CommandError, match=f"broken at record {trail[1].pk} .*signature"):
        _verify()


def test_deleting_a_user_keeps_the_attribution_and_the_chain_intact(trail, users):
    alice_id = users["alice"].pk
    users["alice"].delete()
    kept = AuditRecord.objects.filter(pk__in=[r.pk for r in trail])
    assert set(kept.values_list("actor_id", "actor_label")) == {(alice_id, "alice")}
    assert "audit chain intact" in _verify()


def test_verify_names_the_first_edited_record(trail):
    _as_database_owner(
        ("UPDATE audit_auditrecord SET object_id = %s WHERE id = %s", ["99", trail[2].pk])
    )
    with pytest.raises(CommandError, match=f"broken at record {trail[2].pk} .*edited"):
        _verify()


def test_verify_names_the_record_after_a_deleted_one(trail):
    _as_database_owner(("DELETE FROM audit_auditrecord WHERE id = %s", [trail[1].pk]))
    with pytest.raises(CommandError, match=f"broken at record {trail[2].pk} .*removed"):
        _verify()


def test_verify_notices_the_newest_records_removed(trail):
    _as_database_owner(("DELETE FROM audit_auditrecord WHERE id = %s", [trail[-1].pk]))
    with pytest.raises(CommandError, match="newest records were removed"):
        _verify()


# --- the forgeries of issue 10 #6 ---------------------------------------------------------


def test_forgery_truncated_table_and_deleted_head_is_caught_by_the_anchor(trail, tmp_path):
    anchors = tmp_path / "audit.anchor"
    _anchor(anchors)
    assert "1 anchors match" in _verify(str(anchors))
    _as_database_owner(
        ("DELETE FROM audit_auditrecord", []), ("DELETE FROM audit_auditchainhead", [])
    )
    assert "intact: 0 records" in _verify()  # the chain alone cannot tell
    with pytest.raises(
        CommandError, match=f"the chain had {len(trail)} records .* now has 0 records"
    ):
        _verify(str(anchors))


def test_forgery_dropped_trigger_cut_records_and_rewound_head_is_caught(trail, tmp_path):
    anchors = tmp_path / "audit.anchor"
    _anchor(anchors)
    survivor = trail[2]
    _as_database_owner(
        ("DELETE FROM audit_auditrecord WHERE id > %s", [survivor.pk]),
        ("UPDATE audit_auditchainhead SET last_hash = %s, length = 3", [survivor.record_hash]),
    )
    for sql in remove_sql(connection.vendor):
        _raw(sql)
    with pytest.raises(CommandError, match=r"trigger.* missing"):
        _verify()
    # The careful forger puts the trigger back; the anchor still shows the cut.
    for sql in install_sql(connection.vendor):
        _raw(sql)
    assert "intact: 3 records" in _verify()
    with pytest.raises(
        CommandError, match=f"the chain had {len(trail)} records .* now has 3 records"
    ):
        _verify(str(anchors))


@pytest.mark.parametrize("forger", ["unkeyed sha256", "guessed key"])
def test_forgery_rewritten_record_with_recomputed_later_hashes_is_detected(trail, forger):
    guessed = key_id_of(b"guess")

    def digest(forged, prev_hash):  # type: ignore[no-untyped-def]
        if forger == "unkeyed sha256":
            return legacy_digest(forged, prev_hash)
        values = {f.attname: getattr(forged, f.attname) for f in forged._meta.concrete_fields}
        values.pop("record_hash")
        values["at"] = forged.at.isoformat(timespec="microseconds")
        return hmac.new(b"guess", canonical_json(values).encode(), hashlib.sha256).hexdigest()

    _as_database_owner(
        ("UPDATE audit_auditrecord SET object_id = %s WHERE id = %s", ["99", trail[2].pk])
    )
    if forger == "guessed key":
        _as_database_owner(
            ("UPDATE audit_auditrecord SET key_id = %s WHERE id >= %s", [guessed, trail[2].pk])
        )
    _forge_from(trail[2].pk, digest)
    with pytest.raises(CommandError, match=f"broken at record {trail[2].pk} "):
        _verify()


@pytest.mark.parametrize("format_", ["unsigned format 1", "signed with another key"])
def test_forgery_appended_correctly_hashed_record_is_detected(trail, format_):
    forged = AuditRecord(
        id=trail[-1].pk + 1,
        at=timezone.now(),
        actor_label="alice",
        action="export",
        prev_hash=trail[-1].record_hash,
    )
    if format_ == "unsigned format 1":
        forged.hash_version, forged.key_id = LEGACY, ""
        forged.record_hash = legacy_digest(forged, forged.prev_hash)
    else:
        forged.hash_version, forged.key_id = KEYED, key_id_of(b"x" * 40)
        forged.record_hash = "f" * 64
    _as_database_owner(
        (
            "INSERT INTO audit_auditrecord (id, at, actor_label, action, object_type, "
            "object_id, object_repr, prev_hash, record_hash, key_id, hash_version) "
            "VALUES (%s, %s, %s, %s, '', '', '', %s, %s, %s, %s)",
            [
                forged.id,
                forged.at,
                forged.actor_label,
                forged.action,
                forged.prev_hash,
                forged.record_hash,
                forged.key_id,
                forged.hash_version,
            ],
        ),
        (
            "UPDATE audit_auditchainhead SET last_hash = %s, length = length + 1",
            [forged.record_hash],
        ),
    )
    with pytest.raises(CommandError, match=f"broken at record {forged.id} .*(forged|key id)"):
        _verify()


def test_an_edited_anchor_file_is_refused(trail, tmp_path):
    anchors = tmp_path / "audit.anchor"
    _anchor(anchors)
    line = json.loads(anchors.read_text())
    anchors.write_text(json.dumps(line | {"length": 2}) + "\n")
    with pytest.raises(CommandError, match="line 1: not an anchor signed"):
        _verify(str(anchors))


def test_anchor_files_are_private_and_appended(trail, tmp_path):
    anchors = tmp_path / "audit.anchor"
    _anchor(anchors)
    record("login", actor_label="system")
    _anchor(anchors)
    assert anchors.stat().st_mode & 0o777 == 0o600
    assert [json.loads(line)["length"] for line in anchors.read_text().splitlines()] == [
        len(trail),
        len(trail) + 1,
    ]
    assert "2 anchors match" in _verify(str(anchors))


# --- key rotation ---------------------------------------------------------------------------


def test_rotated_keys_verify_old_records_and_refuse_a_retired_key_after_a_new_one(db):
    with override_settings(AUDIT_HMAC_KEY=OLD_KEY):
        record("login", actor_label="before rotation")
    with override_settings(AUDIT_HMAC_KEY=f"{NEW_KEY},{OLD_KEY}"):
        record("login", actor_label="after rotation")
        assert "intact: 2 records" in _verify()
    keys = list(AuditRecord.objects.order_by("id").values_list("key_id", flat=True))
    assert keys == [key_id_of(OLD_KEY.encode()), key_id_of(NEW_KEY.encode())]
    with override_settings(AUDIT_HMAC_KEY=NEW_KEY), pytest.raises(CommandError, match="key id"):
        _verify()
    # Someone holding only the retired key appends a record: refused as forged.
    with override_settings(AUDIT_HMAC_KEY=OLD_KEY):
        record("export", actor_label="leaked old key")
    with (
        override_settings(AUDIT_HMAC_KEY=f"{NEW_KEY},{OLD_KEY}"),
        pytest.raises(CommandError, match="older key than the record before it"),
    ):
        _verify()


def test_without_a_key_verify_and_writes_say_what_to_set(db):
    with override_settings(AUDIT_HMAC_KEY=""):
        with pytest.raises(CommandError, match="AUDIT_HMAC_KEY is not set"):
            _verify()
        with pytest.raises(Exception, match="AUDIT_HMAC_KEY is not set"):
            record("login", actor_label="x")
    with override_settings(AUDIT_HMAC_KEY="short"), pytest.raises(CommandError, match="shorter"):
        _verify()


# --- upgrading a deployment whose trail has format-1 records ---------------------------------


def _write_format_1_trail(study, users) -> list[int]:
    """What 0002's code wrote: unkeyed SHA-256 without actor and study ids."""
    ids, previous = [], GENESIS
    for n in range(4):
        old = AuditRecord(
            at=timezone.now(),
            actor_id=users["carol"].pk,
            actor_label="",
            action="view_contact",
            study_id=study.pk,
            object_type="participants.participant",
            object_id=str(n),
        )
        old.prev_hash, old.record_hash = previous, legacy_digest(old, previous)
        _raw(
            "INSERT INTO audit_auditrecord (at, actor_id, actor_label, action, study_id, "
            "object_type, object_id, object_repr, prev_hash, record_hash, key_id, "
            "hash_version) VALUES (%s, %s, '', %s, %s, %s, %s, '', %s, %s, '', 1)",
            [
                old.at,
                old.actor_id,
                old.action,
                old.study_id,
                old.object_type,
                old.object_id,
                old.prev_hash,
                old.record_hash,
            ],
        )
        ids.append(AuditRecord.objects.order_by("-id").values_list("id", flat=True)[0])
        previous = old.record_hash
    AuditChainHead.objects.update_or_create(pk=1, defaults={"last_hash": previous, "length": 4})
    return ids


def _run_upgrade_seal() -> None:
    from django.apps import apps

    migration = importlib.import_module("fibrosurvey.web.audit.migrations.0003_signed_chain")
    migration.seal_legacy_records(apps, connection.schema_editor())


@pytest.fixture
def upgraded(study, users):
    _as_database_owner(
        ("DELETE FROM audit_auditrecord", []), ("DELETE FROM audit_auditchainhead", [])
    )
    ids = _write_format_1_trail(study, users)
    _run_upgrade_seal()
    record("export", actor=users["alice"], study=study)
    return ids


def test_an_upgraded_trail_keeps_its_format_1_records_sealed(upgraded):
    seal = AuditRecord.objects.get(action="seal")
    assert seal.after["legacy_records"] == 4 and seal.hash_version == KEYED
    assert "intact: 6 records (4 unsigned records from before the upgrade, sealed)" in _verify()


def test_erased_attribution_of_a_format_1_record_is_detected_after_the_upgrade(upgraded):
    _as_database_owner(
        ("UPDATE audit_auditrecord SET actor_id = NULL WHERE id = %s", [upgraded[1]])
    )
    with pytest.raises(CommandError, match="do not match the seal"):
        _verify()


def test_format_1_records_without_a_seal_are_refused(study, users):
    _as_database_owner(
        ("DELETE FROM audit_auditrecord", []), ("DELETE FROM audit_auditchainhead", [])
    )
    _write_format_1_trail(study, users)
    with pytest.raises(CommandError, match="no seal record"):
        _verify()


# --- least-privilege application role (PostgreSQL) --------------------------------------------


def test_the_application_role_may_only_insert_audit_records(trail):
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's; run with DATABASE_URL=postgres://...")
    from django.db.utils import ProgrammingError

    role = "fibrosurvey_app_test"
    out = io.StringIO()
    call_command("database_grants", role, stdout=out)
    with connection.cursor() as cursor:
        # Created inside the test's transaction: rolled back with it, role included.
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        cursor.execute(out.getvalue())
        cursor.execute(f'SET ROLE "{role}"')
    try:
        written = record("export", actor_label="as the application role")
        assert written.record_hash
        for statement in (
            "UPDATE audit_auditrecord SET actor_id = NULL WHERE id = %s",
            "DELETE FROM audit_auditrecord WHERE id = %s",
            "TRUNCATE audit_auditrecord",
            "DROP TRIGGER audit_append_only ON audit_auditrecord",
            "SET session_replication_role = replica",
        ):
            with (
                pytest.raises(ProgrammingError, match=r"permission denied|must be owner"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [trail[1].pk] if "%s" in statement else [])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert "audit chain intact" in _verify()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_a_bulk_append_keep_one_linear_chain(study):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; run with DATABASE_URL=postgres://...")
    import threading

    from django.db import connections

    from fibrosurvey.web.audit.ledger import append

    def write(n: int) -> None:
        try:
            for k in range(10):
                with transaction.atomic():
                    if k % 5 == 0:
                        batch = [
                            AuditRecord(action="import", object_id=f"{n}-{k}-{i}") for i in range(3)
                        ]
                        append(AuditRecord, AuditChainHead, batch)
                    else:
                        record("export", actor_label=f"writer {n}", study=study, object_id=k)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert AuditRecord.objects.filter(action="import").count() == 4 * 2 * 3
    assert "audit chain intact" in _verify()


def test_the_study_audit_page_still_names_a_deleted_user(trail, users, login, study):
    carol_id = users["carol"].pk
    record("export", actor=users["carol"], study=study, object_type="exports.export")
    users["carol"].delete()
    assert AuditRecord.objects.filter(actor_id=carol_id).exists()
    page = login("alice").get(f"/studies/{study.pk}/audit/")
    assert page.status_code == 200
    assert "<td>carol</td><td>export</td>" in page.content.decode()
