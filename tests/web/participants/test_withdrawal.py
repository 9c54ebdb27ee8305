"""Withdrawal: a confirmed form with a kind and a reason; "no further contact" keeps the data
given so far, "withdraw and delete" removes the research data (leaving an audit record);
withdrawn participants are never invited again, single or in bulk."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.participants.invitations import WithdrawnParticipantError, do_issue_invitation
from fibrosurvey.web.participants.models import ContactDetails, Invitation, Participant
from fibrosurvey.web.participants.withdrawal import do_withdraw_participant
from fibrosurvey.web.survey.models import Response, SafetyAlert

CONFIRMED = {"kind": "no_further_contact", "reason": "participant_request", "confirm": "on"}


def _withdraw_url(study, participant):
    return reverse("participants:withdraw", args=[study.pk, participant.pk])


def _answer(participant, event, instrument="phq9", answers=None):
    return Response.objects.create(
        participant=participant,
        event=event,
        instrument_id=instrument,
        instrument_version="1.0.0",
        answers=answers or {"phq9_9": 1},
        status="complete",
    )


def test_participant_page_title_is_plain_text_without_the_withdrawal_form(
    study, participant, login
):
    page = login("carol").get(reverse("participants:detail", args=[study.pk, participant.pk]))
    title = re.search(r"<title>(.*?)</title>", page.content.decode(), re.S).group(1)
    assert title.strip() == f"{participant.study_code} · {study.name}"
    assert "csrf" not in title.lower() and "&lt;" not in title
    # The form is still on the page, in the body.
    assert 'name="confirm"' in page.content.decode()


@pytest.mark.parametrize(
    "data,field",
    [
        ({}, "confirm"),
        ({**CONFIRMED, "confirm": ""}, "confirm"),
        ({**CONFIRMED, "kind": "forget_everything"}, "kind"),
        ({**CONFIRMED, "reason": ""}, "reason"),
    ],
)
def test_withdrawal_without_confirmation_kind_or_reason_is_refused_and_changes_nothing(
    study, participant, issued, login, data, field
):
    response = login("carol").post(_withdraw_url(study, participant), data)
    assert response.status_code == 400
    assert response.context["withdraw_form"].errors[field]
    participant.refresh_from_db()
    assert participant.withdrawn_at is None
    assert Invitation.objects.get(pk=issued.invitation.pk).revoked_at is None


def test_no_further_contact_keeps_the_answers_and_records_kind_and_reason(
    study, participant, issued, login
):
    _answer(participant, issued.invitation.event)
    response = login("carol").post(
        _withdraw_url(study, participant), {**CONFIRMED, "reason": "lost_to_follow_up"}
    )
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.withdrawal_kind == "no_further_contact"
    assert participant.withdrawal_reason == "lost_to_follow_up"
    assert Response.objects.filter(participant=participant).count() == 1
    assert ContactDetails.objects.get(participant=participant).email == "maria.lopez@example.org"
    record = AuditRecord.objects.filter(object_id=str(participant.pk), action="update").last()
    assert record.after["withdrawal_kind"] == "no_further_contact"


def test_withdraw_and_delete_removes_research_data_and_leaves_an_audit_record(
    cohort, participant, login
):
    study, _ = cohort
    from fibrosurvey.web.exports.models import DesignVariables
    from fibrosurvey.web.labs.models import LabResult, LabSample

    who = Participant.objects.filter(study=study, lab_samples__isnull=False).first()
    event = study.events.get(code="baseline")
    SafetyAlert.objects.create(
        study=study,
        participant=who,
        event=event,
        response=Response.objects.filter(participant=who).first(),
        value=1,
    )
    before = {
        "responses": Response.objects.filter(participant=who).count(),
        "lab_samples": LabSample.objects.filter(participant=who).count(),
        "lab_results": LabResult.objects.filter(sample__participant=who).count(),
    }
    assert all(before.values())
    ContactDetails.objects.update_or_create(
        participant=who, defaults={"email": "who@example.org", "name": "Who"}
    )
    others = Response.objects.exclude(participant=who).count()

    response = login("carol").post(
        _withdraw_url(study, who), {**CONFIRMED, "kind": "withdraw_and_delete"}
    )

    assert response.status_code == 302
    assert not Response.objects.filter(participant=who).exists()
    assert not LabSample.objects.filter(participant=who).exists()
    assert not LabResult.objects.filter(sample__participant=who).exists()
    assert not DesignVariables.objects.filter(participant=who).exists()
    assert not SafetyAlert.objects.filter(participant=who).exists()
    assert Response.objects.exclude(participant=who).count() == others
    contact = ContactDetails.objects.get(participant=who)
    assert (contact.email, contact.phone, contact.name) == ("", "", "")
    who.refresh_from_db()
    assert who.withdrawn_at is not None and who.withdrawal_kind == "withdraw_and_delete"
    record = AuditRecord.objects.filter(object_id=str(who.pk), action="update").last()
    assert record.after["deleted"]["responses"] == before["responses"]
    assert record.after["deleted"]["lab_results"] == before["lab_results"]
    assert record.after["deleted"]["safety_alerts"] == 1


def test_inviting_a_withdrawn_participant_is_refused_with_a_clear_message(
    study, participant, login, users
):
    do_withdraw_participant(participant, actor=users["carol"])
    mail.outbox.clear()
    response = login("carol").post(
        reverse("participants:invite", args=[study.pk, participant.pk, "baseline"])
    )
    assert response.status_code == 409
    assert "withdrew from the study" in response.content.decode()
    assert not Invitation.objects.filter(participant=participant).exists()
    assert mail.outbox == []
    with pytest.raises(WithdrawnParticipantError):
        do_issue_invitation(participant, study.events.get(code="baseline"))


def test_invite_everyone_skips_withdrawn_participants_and_says_so(
    study, participant, participant_south, login, users
):
    do_withdraw_participant(participant, actor=users["carol"])
    response = login("carol").post(
        reverse("participants:invite_all", args=[study.pk, "baseline"]), follow=True
    )
    text = response.content.decode()
    assert "1 e-mail sent." in text
    assert f"<td>{participant.study_code}</td><td>withdrawn</td>" in text
    assert [m.to for m in mail.outbox] == [["juan@example.org"]]
    assert not Invitation.objects.filter(participant=participant).exists()
    listing = login("carol").get(reverse("participants:list", args=[study.pk])).content.decode()
    row = listing[listing.index(participant.study_code) :].split("</tr>")[0]
    assert 'class="badge status-withdrawn">withdrawn<' in row


def test_a_withdrawal_never_happens_twice(study, participant, users):
    first = do_withdraw_participant(participant, actor=users["carol"])
    again = do_withdraw_participant(
        participant, actor=users["carol"], kind="withdraw_and_delete", reason="other"
    )
    assert again.withdrawn_at == first.withdrawn_at
    assert again.withdrawal_kind == "no_further_contact"
