"""The audit trail records research-data changes with before/after; the owner reads it."""

from __future__ import annotations

from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord


def test_enrolment_is_audited_without_contact_data(participant):
    created = AuditRecord.objects.get(action="create", object_type="participants.participant")
    assert created.actor.username == "carol"
    assert created.after["study_code"] == participant.study_code
    assert created.after["contact_details"] is True
    assert "maria" not in str(created.after).lower()


def test_owner_reads_the_trail_including_contact_views(study, participant, login):
    login("carol").get(reverse("participants:contact", args=[study.pk, participant.pk]))
    page = login("alice").get(reverse("dashboard:audit", args=[study.pk])).content.decode()

    assert "view_contact" in page
    assert "carol" in page
    filtered = (
        login("alice")
        .get(reverse("dashboard:audit", args=[study.pk]), {"action": "view_contact"})
        .content.decode()
    )
    assert filtered.count("<td>view_contact</td>") == 1
    assert "<td>create</td>" not in filtered


def test_trail_shows_only_this_studys_records(study, other_study, login):
    page = login("alice").get(reverse("dashboard:audit", args=[study.pk])).content.decode()
    assert "Another study" not in page
    assert AuditRecord.objects.filter(study=other_study).exists()


def test_acknowledging_and_revoking_are_audited_with_before_and_after(
    study, participant, issued, login
):
    login("carol").post(reverse("participants:revoke", args=[study.pk, participant.pk, "baseline"]))
    revoked = AuditRecord.objects.get(action="revoke")
    assert revoked.before == {"revoked_at": None}
    assert revoked.after["revoked_at"] is not None
