"""The audit trail is append-only and tamper-evident (SHA-256 hash chain)."""

from __future__ import annotations

import hashlib
import io
import itertools
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from fibrosurvey.web.audit.chain import GENESIS
from fibrosurvey.web.audit.models import AuditRecord, AuditTrailIsAppendOnly
from fibrosurvey.web.audit.services import record


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


def _verify() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_each_record_hashes_its_content_and_the_previous_hash(trail):
    first = AuditRecord.objects.order_by("id").first()
    assert first.prev_hash == GENESIS
    for previous, current in itertools.pairwise(trail):
        assert current.prev_hash == previous.record_hash
    last = AuditRecord.objects.order_by("id").last()
    expected = hashlib.sha256(
        json.dumps(
            {
                "action": last.action,
                "actor_label": last.actor_label,
                "after": last.after,
                "at": last.at.isoformat(timespec="microseconds"),
                "before": last.before,
                "ip_address": last.ip_address,
                "object_id": last.object_id,
                "object_repr": last.object_repr,
                "object_type": last.object_type,
                "prev_hash": last.prev_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    ).hexdigest()
    assert last.record_hash == expected
    assert "audit chain intact" in _verify()


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


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _bypass_trigger() -> None:
    # What a database superuser (not the application) could do: skip the trigger.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")


def test_verify_names_the_first_edited_record(trail):
    if connection.vendor == "postgresql":
        with pytest.raises(Exception, match="cannot be changed"):
            _raw("UPDATE audit_auditrecord SET object_id = %s WHERE id = %s", ["99", trail[2].pk])
        _bypass_trigger()
    _raw("UPDATE audit_auditrecord SET object_id = %s WHERE id = %s", ["99", trail[2].pk])
    with pytest.raises(CommandError, match=f"broken at record {trail[2].pk} .*edited"):
        _verify()


def test_verify_names_the_record_after_a_deleted_one(trail):
    if connection.vendor == "postgresql":
        with pytest.raises(Exception, match="cannot be deleted"):
            _raw("DELETE FROM audit_auditrecord WHERE id = %s", [trail[1].pk])
        _bypass_trigger()
    _raw("DELETE FROM audit_auditrecord WHERE id = %s", [trail[1].pk])
    with pytest.raises(CommandError, match=f"broken at record {trail[2].pk} .*removed"):
        _verify()


def test_verify_notices_the_newest_records_removed(trail):
    if connection.vendor == "postgresql":
        _bypass_trigger()
    _raw("DELETE FROM audit_auditrecord WHERE id = %s", [trail[-1].pk])
    with pytest.raises(CommandError, match="newest records were removed"):
        _verify()


def test_deleting_a_user_keeps_the_chain_intact(trail, users):
    users["alice"].delete()
    assert AuditRecord.objects.filter(actor__isnull=True).count() >= 5
    assert "audit chain intact" in _verify()
