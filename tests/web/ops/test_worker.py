"""The one background worker: due follow-ups and reminders, and the e-mail outbox, in one
round (``make run`` starts it next to the web server)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from fibrosurvey.web.outbox.services import enqueue_email
from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.participants.models import Invitation


def test_one_round_sends_due_followups_reminders_and_queued_emails(
    study, participant, participant_south
):
    baseline = study.events.get(code="baseline")
    done = do_issue_invitation(participant, baseline)
    waiting = do_issue_invitation(participant_south, baseline)
    ago = timezone.now() - timedelta(days=91)
    Invitation.objects.filter(pk=done.invitation.pk).update(completed_at=ago, sent_at=ago)
    Invitation.objects.filter(pk=waiting.invitation.pk).update(sent_at=ago)
    enqueue_email(
        kind="safety_alert", study=study.pk, subject="s", body="b", recipients=["t@example.org"]
    )
    mail.outbox.clear()
    out = io.StringIO()

    call_command("worker", "--once", stdout=out)

    text = out.getvalue()
    assert "invitations: 1 invited, 1 reminded" in text
    assert re.search(r"e-mail \d+ \(safety_alert\): sent", text)
    followup = [m for m in mail.outbox if m.to == ["maria.lopez@example.org"]]
    reminder = [m for m in mail.outbox if m.to == ["juan@example.org"]]
    assert len(followup) == 1 and len(reminder) == 1
    assert f"/s/{waiting.token}/" in reminder[0].body  # the same link, still valid
    assert Invitation.objects.filter(event__code="followup_3m").count() == 1


def test_a_second_round_sends_nothing_more(study, participant):
    issued = do_issue_invitation(participant, study.events.get(code="baseline"))
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        sent_at=timezone.now() - timedelta(days=8)
    )
    call_command("worker", "--once", stdout=io.StringIO())
    sent = len(mail.outbox)
    out = io.StringIO()

    call_command("worker", "--once", stdout=out)

    assert len(mail.outbox) == sent
    assert out.getvalue() == ""
