"""Contact details are encrypted at rest; the key rotates in batches without downtime."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from fibrosurvey.web.participants.models import ContactDetails

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
PEOPLE = [(f"person{n}@example.org", f"+44 7700 900{n:03d}", f"Person Number{n}") for n in range(7)]


@pytest.fixture
def enrolled(study, users, settings):
    from fibrosurvey.web.participants.enrolment import do_enrol_participant

    settings.FIELD_ENCRYPTION_KEY = OLD
    north = study.sites.get(code="north")
    return [
        do_enrol_participant(study, site=north, actor=users["carol"], email=e, phone=p, name=n)
        for e, p, n in PEOPLE
    ]


def _raw_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM participants_contact_details")
        return cursor.fetchall()


def test_dumpdata_and_a_raw_select_show_no_plaintext_contact_data(enrolled, participant):
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    raw = repr(_raw_rows())
    plaintexts = [value for person in PEOPLE for value in person]
    plaintexts += ["maria.lopez@example.org", "+34 600 123 456", "María López"]
    for text in plaintexts:
        assert text not in dump.getvalue()
        assert text not in raw
    assert len(_raw_rows()) == len(PEOPLE) + 1
    assert '"email": "fernet:gAAAAA' in dump.getvalue()


def test_a_dump_loads_back_to_the_same_contact_details(enrolled, tmp_path):
    dump = tmp_path / "contacts.json"
    call_command("dumpdata", "participants.contactdetails", output=str(dump))
    ContactDetails.objects.all().delete()
    call_command("loaddata", str(dump))
    assert sorted((c.email, c.phone, c.name) for c in ContactDetails.objects.all()) == sorted(
        PEOPLE
    )


def test_rotation_re_encrypts_in_batches_and_old_key_can_then_be_dropped(enrolled, settings):
    settings.FIELD_ENCRYPTION_KEY = f"{NEW},{OLD}"
    before = _raw_rows()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_encryption_key", "--check", stdout=out)
    assert f"{len(PEOPLE)} of {len(PEOPLE)} rows are not under the newest key" in out.getvalue()

    # One batch only: the half-rotated table is still fully readable (no downtime).
    call_command("rotate_encryption_key", "--batch-size", "3", "--max-batches", "1", stdout=out)
    assert "re-encrypted 9 values in 1 batches" in out.getvalue()
    assert sorted((c.email, c.phone, c.name) for c in ContactDetails.objects.all()) == sorted(
        PEOPLE
    )

    call_command("rotate_encryption_key", "--batch-size", "3", stdout=out)
    assert "re-encrypted 12 values in 3 batches" in out.getvalue()
    call_command("rotate_encryption_key", "--check", stdout=out)
    after = _raw_rows()
    assert all(a != b for a, b in zip(sorted(after), sorted(before), strict=True))

    settings.FIELD_ENCRYPTION_KEY = NEW
    assert sorted((c.email, c.phone, c.name) for c in ContactDetails.objects.all()) == sorted(
        PEOPLE
    )
    only_new = Fernet(NEW.encode())
    assert only_new.decrypt(after[0][1].encode()).decode().endswith("@example.org")


def test_without_the_old_key_unrotated_data_fails_loudly(enrolled, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEY = NEW
    with pytest.raises(ImproperlyConfigured, match="key that encrypted them is missing"):
        list(ContactDetails.objects.all())


def test_kept_survey_links_are_encrypted_and_rotate_with_the_contact_details(
    enrolled, study, settings
):
    from fibrosurvey.web.participants.invitations import do_issue_invitation
    from fibrosurvey.web.participants.models import Invitation

    issued = do_issue_invitation(enrolled[0], study.events.get(code="baseline"), send=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_encrypted FROM participants_invitation")
        (stored,) = cursor.fetchone()
    assert issued.token not in stored and stored.startswith("gAAAAA")

    settings.FIELD_ENCRYPTION_KEY = f"{NEW},{OLD}"
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "re-encrypted 1 values in 1 batches (invitations)" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEY = NEW
    assert Invitation.objects.get(pk=issued.invitation.pk).token_encrypted == issued.token
