"""Contact details are encrypted at rest and readable only through the audited service."""

from __future__ import annotations

from django.db import connection

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.participants.enrolment import do_view_contact
from fibrosurvey.web.participants.models import ContactDetails


def _raw_contact_row(participant_id: int) -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email, phone, name FROM participants_contact_details WHERE participant_id = %s",
            [participant_id],
        )
        return cursor.fetchone()


def test_raw_database_column_holds_no_plaintext_email(participant):
    raw_email, raw_phone, raw_name = _raw_contact_row(participant.pk)

    assert "maria.lopez" not in raw_email
    assert "example.org" not in raw_email
    assert raw_email.startswith("gAAAA")  # a Fernet token
    assert "600" not in raw_phone
    assert "López" not in raw_name and "Maria" not in raw_name


def test_contact_details_decrypt_for_the_service(participant, users):
    contact = do_view_contact(participant, actor=users["carol"])

    assert contact.email == "maria.lopez@example.org"
    assert contact.phone == "+34 600 123 456"
    assert contact.name == "María López"


def test_each_view_of_contact_details_is_audited(participant, users):
    do_view_contact(participant, actor=users["carol"])
    do_view_contact(participant, actor=users["alice"])

    views = AuditRecord.objects.filter(action="view_contact", object_id=str(participant.pk))
    assert sorted(v.actor.username for v in views) == ["alice", "carol"]
    assert all(v.study_id == participant.study_id for v in views)


def test_rotated_keys_still_decrypt_old_tokens(participant, settings):
    from cryptography.fernet import Fernet

    old_key = settings.FIELD_ENCRYPTION_KEY
    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old_key}"

    assert ContactDetails.objects.get(pk=participant.pk).email == "maria.lopez@example.org"
