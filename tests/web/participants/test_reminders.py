"""Reminders re-send the link already e-mailed (it keeps working); bulk invitations and
reminders ask first, then say who was skipped and why; the worker sends the scheduled ones."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.participants.enrolment import do_enrol_participant
from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.participants.schedule import do_send_due_invitations


def _emailed_path(message):
    return re.search(r"(/s/[^\s]+/)", message.body).group(1)


def test_send_reminder_emails_the_same_link_and_the_old_link_still_works(study, participant, login):
    issued = do_issue_invitation(participant, study.events.get(code="baseline"))
    first_link = _emailed_path(mail.outbox[0])

    response = login("carol").post(
        reverse("participants:remind", args=[study.pk, participant.pk, "baseline"])
    )

    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert "Reminder" in mail.outbox[1].subject
    assert _emailed_path(mail.outbox[1]) == first_link == f"/s/{issued.token}/"
    assert login("anonymous").get(first_link).status_code == 302  # -> consent, not 404
    invitation = Invitation.objects.get(pk=issued.invitation.pk)
    assert invitation.reminders_sent == 1 and invitation.revoked_at is None
    audit = AuditRecord.objects.filter(action="invite", object_id=str(invitation.pk)).first()
    assert audit.after == {"event": "baseline", "reminder": 1}
    assert audit.actor.username == "carol"


def test_a_reminder_to_a_withdrawn_participant_is_refused_with_the_reason(
    study, participant, issued, login
):
    participant.withdrawn_at = timezone.now()
    participant.save()

    response = login("carol").post(
        reverse("participants:remind", args=[study.pk, participant.pk, "baseline"])
    )

    assert response.status_code == 409
    assert "No reminder sent: withdrawn." in response.content.decode()
    assert mail.outbox == []


def test_a_reminder_for_a_completed_survey_is_refused(study, participant, issued, login):
    Invitation.objects.filter(pk=issued.invitation.pk).update(completed_at=timezone.now())

    response = login("carol").post(
        reverse("participants:remind", args=[study.pk, participant.pk, "baseline"])
    )

    assert response.status_code == 409
    assert "already done" in response.content.decode()
    assert mail.outbox == []


def test_scheduled_reminder_keeps_the_link_working(study, participant, login):
    issued = do_issue_invitation(participant, study.events.get(code="baseline"))
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        sent_at=timezone.now() - timedelta(days=8)
    )

    assert do_send_due_invitations().reminded == 1

    assert _emailed_path(mail.outbox[-1]) == f"/s/{issued.token}/"
    assert login("anonymous").get(f"/s/{issued.token}/").status_code == 302


def _bulk_study(study, users):
    north = study.sites.get(code="north")
    baseline = study.events.get(code="baseline")
    with_email = do_enrol_participant(study, site=north, actor=None, email="a@example.org")
    phone_only = do_enrol_participant(study, site=north, actor=None, phone="+34 600 000 001")
    withdrawn = do_enrol_participant(study, site=north, actor=None, email="w@example.org")
    withdrawn.withdrawn_at = timezone.now()
    withdrawn.save()
    done = do_enrol_participant(study, site=north, actor=None, email="d@example.org")
    finished = do_issue_invitation(done, baseline, send=False)
    Invitation.objects.filter(pk=finished.invitation.pk).update(completed_at=timezone.now())
    return with_email, phone_only, withdrawn, done


def test_bulk_invitations_ask_first_then_name_who_was_skipped_and_why(study, users, login):
    _with_email, phone_only, withdrawn, done = _bulk_study(study, users)
    url = reverse("participants:invite_all", args=[study.pk, "baseline"])
    carol = login("carol")

    confirm = carol.get(url)
    page = confirm.content.decode()

    assert confirm.status_code == 200 and mail.outbox == []  # nothing sent by asking
    assert "1 participant will be e-mailed a survey link." in page
    assert "no e-mail address: 1" in page and "withdrawn: 1" in page
    assert "already done: 1" in page

    done_page = carol.post(url).content.decode()

    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert "1 e-mail sent." in done_page
    for skipped, reason in (
        (phone_only, "no e-mail address"),
        (withdrawn, "withdrawn"),
        (done, "already done"),
    ):
        assert f"<td>{skipped.study_code}</td><td>{reason}</td>" in done_page


def test_bulk_reminders_resend_existing_links_and_skip_with_reasons(study, users, login):
    with_email, phone_only, withdrawn, done = _bulk_study(study, users)
    baseline = study.events.get(code="baseline")
    issued = do_issue_invitation(with_email, baseline)
    do_issue_invitation(phone_only, baseline)  # no address: nothing e-mailed
    mail.outbox.clear()
    url = reverse("participants:remind_all", args=[study.pk, "baseline"])

    page = login("carol").post(url).content.decode()

    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert _emailed_path(mail.outbox[0]) == f"/s/{issued.token}/"
    assert f"<td>{phone_only.study_code}</td><td>no e-mail address</td>" in page
    assert f"<td>{withdrawn.study_code}</td><td>withdrawn</td>" in page
    assert f"<td>{done.study_code}</td><td>already done</td>" in page
    assert Invitation.objects.get(pk=issued.invitation.pk).reminders_sent == 1


def test_bulk_reminders_reach_only_the_chosen_status(study, users, login):
    with_email, _phone_only, _withdrawn, _done = _bulk_study(study, users)
    baseline = study.events.get(code="baseline")
    do_issue_invitation(with_email, baseline)
    mail.outbox.clear()
    url = reverse("participants:remind_all", args=[study.pk, "baseline"])

    login("carol").post(url, {"status": "completed"})

    assert mail.outbox == []  # the only completed participant is "already done"


def test_site_limited_coordinator_reminds_only_their_site(
    study, participant, participant_south, login
):
    baseline = study.events.get(code="baseline")
    do_issue_invitation(participant, baseline)
    do_issue_invitation(participant_south, baseline)
    mail.outbox.clear()

    login("sam").post(reverse("participants:remind_all", args=[study.pk, "baseline"]))

    assert [m.to for m in mail.outbox] == [["juan@example.org"]]
