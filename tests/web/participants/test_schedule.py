"""Follow-up invitations go out on schedule, once; reminders are limited and spaced."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.participants.schedule import MAX_REMINDERS, do_send_due_invitations


def _complete_baseline(issued, days_ago):
    completed = timezone.now() - timedelta(days=days_ago)
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        completed_at=completed, sent_at=completed
    )


def test_followup_is_not_sent_before_day_90(issued):
    _complete_baseline(issued, days_ago=89)
    assert do_send_due_invitations().invited == 0
    assert not Invitation.objects.filter(event__code="followup_3m").exists()


def test_followup_is_sent_once_when_due_and_rerunning_sends_nothing(issued, participant):
    _complete_baseline(issued, days_ago=90)

    first = do_send_due_invitations()
    second = do_send_due_invitations()
    output = io.StringIO()
    call_command("send_due_invitations", stdout=output)

    assert (first.invited, second.invited) == (1, 0)
    assert output.getvalue().strip() == "invited: 0, reminded: 0"
    followup = Invitation.objects.get(participant=participant, event__code="followup_3m")
    assert followup.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["maria.lopez@example.org"]
    assert "/s/" in mail.outbox[0].body


def test_unfinished_invitation_gets_spaced_reminders_up_to_the_limit(issued, participant):
    now = timezone.now()
    Invitation.objects.filter(pk=issued.invitation.pk).update(sent_at=now - timedelta(days=8))

    assert do_send_due_invitations(now).reminded == 1
    assert do_send_due_invitations(now).reminded == 0  # same day: no second reminder
    assert do_send_due_invitations(now + timedelta(days=8)).reminded == 1
    assert do_send_due_invitations(now + timedelta(days=30)).reminded == 0
    invitation = Invitation.objects.get(pk=issued.invitation.pk)
    assert invitation.reminders_sent == MAX_REMINDERS
    assert "Reminder" in mail.outbox[0].subject


def test_an_events_own_window_and_reminder_days_set_expiry_and_reminders(study, participant_south):
    from fibrosurvey.web.participants.invitations import do_issue_invitation

    baseline = study.events.get(code="baseline")
    baseline.window_days, baseline.reminder_days = 14, [3, 10]
    baseline.save(update_fields=["window_days", "reminder_days"])
    issued = do_issue_invitation(participant_south, baseline)
    invitation = Invitation.objects.get(pk=issued.invitation.pk)
    start = invitation.created_at
    assert invitation.expires_at - start < timedelta(days=14, seconds=5)

    assert do_send_due_invitations(start + timedelta(days=2)).reminded == 0
    assert do_send_due_invitations(start + timedelta(days=3)).reminded == 1
    assert do_send_due_invitations(start + timedelta(days=3)).reminded == 0
    assert do_send_due_invitations(start + timedelta(days=10)).reminded == 1
    assert do_send_due_invitations(start + timedelta(days=13)).reminded == 0  # both sent
    reminded = Invitation.objects.get(pk=invitation.pk)
    assert reminded.reminders_sent == 2
    assert reminded.expires_at == invitation.expires_at  # reminders never extend the window
