"""Scheduled follow-up invitations and reminders (run by ``manage send_due_invitations``).

Idempotent: an invitation exists at most once per participant x event (unique constraint,
checked before sending), and a reminder is sent only when the last one is old enough, so
running the command twice in a row sends nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.participants.models import Invitation, Participant
from fibrosurvey.web.participants.reminders import ReminderRefused, do_send_reminder
from fibrosurvey.web.studies.models import Event

__all__ = ["MAX_REMINDERS", "REMINDER_AFTER_DAYS", "ScheduleResult", "do_send_due_invitations"]

REMINDER_AFTER_DAYS = 7
MAX_REMINDERS = 2
SCHEDULER = "system (send_due_invitations)"


@dataclass(frozen=True)
class ScheduleResult:
    invited: int
    reminded: int


def _due_followups(now: datetime) -> list[tuple[Participant, Event]]:
    due: list[tuple[Participant, Event]] = []
    for event in Event.objects.filter(day_offset__gt=0).select_related("study"):
        baseline = event.study.events.filter(day_offset=0).order_by("order").first()
        if baseline is None:
            continue
        participants = (
            Participant.objects.filter(
                study=event.study,
                withdrawn_at__isnull=True,
                invitations__event=baseline,
                invitations__completed_at__lte=now - timedelta(days=event.day_offset),
            )
            .exclude(invitations__event=event)
            .select_related("study", "contact")
        )
        due.extend((participant, event) for participant in participants)
    return due


def _due_reminders(now: datetime) -> list[Invitation]:
    """Open invitations whose next reminder is due: on the event's own reminder days (days
    after the first invitation), or by default every REMINDER_AFTER_DAYS, MAX_REMINDERS times."""
    cutoff = now - timedelta(days=REMINDER_AFTER_DAYS)
    open_invitations = (
        Invitation.objects.filter(
            completed_at__isnull=True,
            revoked_at__isnull=True,
            participant__withdrawn_at__isnull=True,
            sent_at__isnull=False,
            expires_at__gt=now,
        )
        .exclude(token_encrypted="")  # a link not kept cannot be re-sent
        .select_related("participant", "participant__study", "participant__contact", "event")
    )
    default = open_invitations.filter(
        event__reminder_days=[],
        sent_at__lte=cutoff,
        reminders_sent__lt=MAX_REMINDERS,
    ).filter(Q(last_reminder_at__isnull=True) | Q(last_reminder_at__lte=cutoff))
    scheduled = [
        invitation
        for invitation in open_invitations.exclude(event__reminder_days=[])
        if invitation.reminders_sent < len(invitation.event.reminder_days)
        and invitation.created_at
        + timedelta(days=invitation.event.reminder_days[invitation.reminders_sent])
        <= now
    ]
    return [*default, *scheduled]


def do_send_due_invitations(now: datetime | None = None) -> ScheduleResult:
    """Invite every participant whose follow-up is due; remind those who have not finished
    (the reminder re-sends the link they already have)."""
    now = now or timezone.now()
    reminders = _due_reminders(now)
    invited = 0
    for participant, event in _due_followups(now):
        do_issue_invitation(participant, event, actor_label=SCHEDULER)
        invited += 1
    reminded = 0
    for invitation in reminders:
        try:
            do_send_reminder(invitation, actor_label=SCHEDULER)  # the same link, again
        except ReminderRefused:  # withdrew, finished or lost the address meanwhile
            continue
        reminded += 1
    return ScheduleResult(invited=invited, reminded=reminded)
