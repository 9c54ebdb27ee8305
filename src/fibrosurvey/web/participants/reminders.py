"""Reminders that re-send the link already e-mailed, and bulk invitations and reminders
that say who was skipped and why.

A reminder never kills a link: it e-mails the same token again (kept encrypted on the
invitation). "New link" (``invitations.do_issue_invitation``) is the only way to replace one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.audit.services import record
from fibrosurvey.web.participants.invitations import (
    WithdrawnParticipantError,
    do_issue_invitation,
    send_invitation_email,
)
from fibrosurvey.web.participants.models import Invitation, Participant
from fibrosurvey.web.studies.models import Event

__all__ = [
    "BulkOutcome",
    "BulkPlan",
    "ReminderRefused",
    "SkipReason",
    "do_bulk_invite",
    "do_bulk_remind",
    "do_send_reminder",
    "plan_invitations",
    "plan_reminders",
]


class SkipReason(models.TextChoices):
    NO_EMAIL = "no_email", _("no e-mail address")
    WITHDRAWN = "withdrawn", _("withdrawn")
    ALREADY_DONE = "already_done", _("already done")
    ALREADY_INVITED = "already_invited", _("already invited")
    NOT_INVITED = "not_invited", _("not invited yet")
    LINK_NOT_ACTIVE = "link_not_active", _("link revoked or expired (use New link)")
    LINK_NOT_KEPT = "link_not_kept", _("link issued before links were kept (use New link)")


class ReminderRefused(ValueError):
    def __init__(self, participant: Participant, reason: SkipReason):
        self.participant = participant
        self.reason = reason
        super().__init__(f"{participant.study_code}: no reminder sent: {reason.label}")


def _email_of(participant: Participant) -> str:
    contact = getattr(participant, "contact", None)
    return contact.email if contact is not None else ""


def reminder_refusal(participant: Participant, invitation: Invitation | None) -> SkipReason | None:
    """Why no reminder can go to this participant for this invitation, or None."""
    if participant.withdrawn_at is not None:
        return SkipReason.WITHDRAWN
    if invitation is None:
        return SkipReason.NOT_INVITED
    if invitation.completed_at is not None:
        return SkipReason.ALREADY_DONE
    if not invitation.is_active:
        return SkipReason.LINK_NOT_ACTIVE
    if not invitation.token_encrypted:
        return SkipReason.LINK_NOT_KEPT
    if not _email_of(participant):
        return SkipReason.NO_EMAIL
    return None


def do_send_reminder(
    invitation: Invitation, *, actor: User | None = None, actor_label: str = ""
) -> Invitation:
    """E-mail the invitation's existing link again; the link keeps working. Refused
    (:class:`ReminderRefused`) for a withdrawn participant, a completed survey, a revoked
    or expired link, a link not kept, or no e-mail address."""
    with transaction.atomic():
        # Locked, so a withdrawal or "New link" committing meanwhile is seen.
        # Only the participant row is locked (PostgreSQL refuses FOR UPDATE on the outer
        # join to the contact details).
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("study", "contact")
            .get(pk=invitation.participant_id)
        )
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        refusal = reminder_refusal(participant, invitation)
        if refusal is not None:
            raise ReminderRefused(participant, refusal)
        event = Event.objects.get(pk=invitation.event_id)
        now = timezone.now()
        send_invitation_email(
            participant, event, invitation.token_encrypted, _email_of(participant), reminder=True
        )
        invitation.reminders_sent += 1
        invitation.last_reminder_at = now
        invitation.sent_at = now
        invitation.save(update_fields=["reminders_sent", "last_reminder_at", "sent_at"])
        record(
            "invite",
            actor=actor,
            actor_label=actor_label,
            study=participant.study_id,
            obj=invitation,
            after={"event": event.code, "reminder": invitation.reminders_sent},
        )
    return invitation


@dataclass
class BulkPlan:
    """Who a bulk action would reach, and who it skips with the reason."""

    event: Event
    to_send: list[Participant] = field(default_factory=list)
    skipped: list[tuple[Participant, SkipReason]] = field(default_factory=list)

    def skipped_counts(self) -> list[tuple[str, int]]:
        counts: dict[SkipReason, int] = {}
        for _participant, reason in self.skipped:
            counts[reason] = counts.get(reason, 0) + 1
        return [(str(reason.label), n) for reason, n in sorted(counts.items())]


@dataclass
class BulkOutcome:
    sent: list[str] = field(default_factory=list)  # study codes
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (study code, reason label)


def _with_event_invitation(participants: QuerySet[Participant], event: Event) -> Any:
    return participants.select_related("study", "contact").prefetch_related(
        Prefetch(
            "invitations",
            queryset=Invitation.objects.filter(event=event),
            to_attr="event_invitations",
        )
    )


def _invitation(participant: Participant) -> Invitation | None:
    found: list[Invitation] = getattr(participant, "event_invitations", [])
    return found[0] if found else None


def plan_invitations(participants: QuerySet[Participant], event: Event) -> BulkPlan:
    """Everyone not yet invited to ``event`` who has an e-mail address and has not withdrawn
    (three queries whatever the number of participants)."""
    plan = BulkPlan(event=event)
    for participant in _with_event_invitation(participants, event):
        invitation = _invitation(participant)
        reason: SkipReason | None = None
        if participant.withdrawn_at is not None:
            reason = SkipReason.WITHDRAWN
        elif invitation is not None and invitation.completed_at is not None:
            reason = SkipReason.ALREADY_DONE
        elif invitation is not None:
            reason = SkipReason.ALREADY_INVITED
        elif not _email_of(participant):
            reason = SkipReason.NO_EMAIL
        if reason is None:
            plan.to_send.append(participant)
        else:
            plan.skipped.append((participant, reason))
    return plan


def plan_reminders(participants: QuerySet[Participant], event: Event) -> BulkPlan:
    """Everyone with an unfinished, active, e-mailed link for ``event``."""
    plan = BulkPlan(event=event)
    for participant in _with_event_invitation(participants, event):
        reason = reminder_refusal(participant, _invitation(participant))
        if reason is None:
            plan.to_send.append(participant)
        else:
            plan.skipped.append((participant, reason))
    return plan


def _outcome_skips(plan: BulkPlan, outcome: BulkOutcome) -> None:
    outcome.skipped.extend((p.study_code, str(reason.label)) for p, reason in plan.skipped)


def do_bulk_invite(
    participants: QuerySet[Participant], event: Event, *, actor: User
) -> BulkOutcome:
    """Invite (and e-mail) everyone :func:`plan_invitations` picks, at the time of sending."""
    plan = plan_invitations(participants, event)
    outcome = BulkOutcome()
    _outcome_skips(plan, outcome)
    for participant in plan.to_send:
        try:
            do_issue_invitation(participant, event, actor=actor)
        except WithdrawnParticipantError:  # withdrew since the plan was read
            outcome.skipped.append((participant.study_code, str(SkipReason.WITHDRAWN.label)))
        else:
            outcome.sent.append(participant.study_code)
    return outcome


def do_bulk_remind(
    participants: QuerySet[Participant], event: Event, *, actor: User
) -> BulkOutcome:
    """Re-send the existing link to everyone :func:`plan_reminders` picks."""
    plan = plan_reminders(participants, event)
    outcome = BulkOutcome()
    _outcome_skips(plan, outcome)
    for participant in plan.to_send:
        invitation = _invitation(participant)
        assert invitation is not None  # the plan only sends to the invited
        try:
            do_send_reminder(invitation, actor=actor)
        except ReminderRefused as refused:  # changed since the plan was read
            outcome.skipped.append((participant.study_code, str(refused.reason.label)))
        else:
            outcome.sent.append(participant.study_code)
    return outcome
