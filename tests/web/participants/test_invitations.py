"""Invitations from the participant page: e-mailed, shown once, old links stop working."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from fibrosurvey.web.participants.models import Invitation


def test_inviting_emails_a_working_link_in_the_participants_language(
    study, participant_south, login
):
    response = login("sam").post(
        reverse("participants:invite", args=[study.pk, participant_south.pk, "baseline"])
    )
    assert response.status_code == 200
    shown = re.search(r"http://testserver(/s/[^<\s]+/)", response.content.decode()).group(1)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["juan@example.org"]
    assert "Le invitamos a responder una encuesta" in message.body
    emailed = re.search(r"(/s/[^\s]+/)", message.body).group(1)
    assert emailed == shown
    assert login("anonymous").get(emailed).status_code == 302  # -> consent


def test_a_new_link_replaces_the_old_one(study, participant, issued, login):
    old = reverse("survey:entry", args=[issued.token])
    login("carol").post(reverse("participants:invite", args=[study.pk, participant.pk, "baseline"]))
    assert Invitation.objects.filter(participant=participant).count() == 1
    assert login("anonymous").get(old).status_code == 404


def test_withdrawing_stops_the_link_keeps_the_answers_and_is_audited(
    study, participant, issued, login
):
    from fibrosurvey.web.audit.models import AuditRecord
    from fibrosurvey.web.survey.models import Response

    Response.objects.create(
        participant=participant,
        event=issued.invitation.event,
        instrument_id="pgic",
        instrument_version="1.0.0",
        answers={"pgic_1": 3},
    )
    login("carol").post(
        reverse("participants:withdraw", args=[study.pk, participant.pk]),
        {"kind": "no_further_contact", "reason": "participant_request", "confirm": "on"},
    )

    participant.refresh_from_db()
    assert participant.withdrawn_at is not None
    assert Invitation.objects.get(pk=issued.invitation.pk).revoked_at is not None
    assert login("anonymous").get(reverse("survey:entry", args=[issued.token])).status_code == 404
    assert Response.objects.filter(participant=participant).count() == 1
    record = AuditRecord.objects.filter(object_id=str(participant.pk), action="update").last()
    assert record.before["withdrawn_at"] is None and record.after["withdrawn_at"]


def test_invite_everyone_emails_each_uninvited_participant_once(
    study, participant, participant_south, login
):
    from fibrosurvey.web.participants.enrolment import do_enrol_participant

    do_enrol_participant(study, site=study.sites.get(code="north"), actor=None)  # no e-mail
    url = reverse("participants:invite_all", args=[study.pk, "baseline"])

    login("carol").post(url)
    login("carol").post(url)

    assert Invitation.objects.filter(event__code="baseline").count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["juan@example.org", "maria.lopez@example.org"]


def test_site_limited_coordinator_invites_only_their_site(
    study, participant, participant_south, login
):
    login("sam").post(reverse("participants:invite_all", args=[study.pk, "baseline"]))
    assert [m.to[0] for m in mail.outbox] == ["juan@example.org"]
