"""Survey invitations: issue (and e-mail), re-send, revoke, find by token, invite everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.ops.text import one_line
from fibrosurvey.web.participants.models import (
    Invitation,
    Participant,
)
from fibrosurvey.web.participants.tokens import hash_token, new_token, token_matches
from fibrosurvey.web.studies.models import Event

__all__ = [
    "IssuedInvitation",
    "WithdrawnParticipantError",
    "do_issue_invitation",
    "do_revoke_invitation",
    "find_invitation",
    "send_invitation_email",
    "survey_url",
]


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once: put it in the e-mail / printout, never store it


def survey_url(token: str, base: str | None = None) -> str:
    """Absolute link (SITE_URL) by default; ``base=""`` gives the path only."""
    return (settings.SITE_URL if base is None else base) + reverse("survey:entry", args=[token])


def do_issue_invitation(
    participant: Participant,
    event: Event,
    *,
    actor: User | None = None,
    actor_label: str = "",
    send: bool = True,
) -> IssuedInvitation:
    """Create the participant x event invitation, or give it a fresh token ("New link");
    the old link stops working (a reminder, which keeps the link, is
    ``reminders.do_send_reminder``). E-mails the link when ``send`` and an address is on
    file. A withdrawn participant is refused (:class:`WithdrawnParticipantError`)."""
    token = new_token()
    now = timezone.now()
    # An event's window (days) limits its invitations (a reminder keeps the link and its expiry).
    expires = now + timedelta(days=event.window_days or settings.INVITATION_VALID_DAYS)
    with transaction.atomic():
        # Locked, so a withdrawal committing meanwhile cannot be followed by a fresh link.
        withdrawn = (
            Participant.objects.select_for_update()
            .filter(pk=participant.pk)
            .values_list("withdrawn_at", flat=True)
            .first()
        )
        if withdrawn is not None or participant.withdrawn_at is not None:
            raise WithdrawnParticipantError(participant)
        invitation = (
            Invitation.objects.select_for_update()
            .filter(participant=participant, event=event)
            .first()
        )
        if invitation is None:
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(
                        participant=participant,
                        event=event,
                        token_hash=hash_token(token),
                        token_encrypted=token,
                        expires_at=expires,
                    )
            except IntegrityError:  # created concurrently: rotate that one instead
                invitation = Invitation.objects.select_for_update().get(
                    participant=participant, event=event
                )
            else:
                record(
                    "invite",
                    actor=actor,
                    actor_label=actor_label,
                    study=participant.study_id,
                    obj=invitation,
                    after={"event": event.code, "expires_at": expires.isoformat()},
                )
        if invitation.token_hash != hash_token(token):
            invitation.token_hash = hash_token(token)
            invitation.token_encrypted = token
            invitation.expires_at = expires
            invitation.revoked_at = None
            invitation.save()
            record(
                "invite",
                actor=actor,
                actor_label=actor_label,
                study=participant.study_id,
                obj=invitation,
                after={"event": event.code, "reissued": True},
            )
        if send:
            email = participant.contact.email if hasattr(participant, "contact") else ""
            if email:
                send_invitation_email(participant, event, token, email, reminder=False)
                invitation.sent_at = now
                invitation.save(update_fields=["sent_at"])
    return IssuedInvitation(invitation=invitation, token=token)


def send_invitation_email(
    participant: Participant, event: Event, token: str, email: str, *, reminder: bool
) -> None:
    with translation.override(participant.language):
        context = {
            "study": participant.study,
            "event_label": event.label_in(participant.language),
            "url": survey_url(token),
            "reminder": reminder,
        }
        subject = one_line(render_to_string("participants/email/invitation_subject.txt", context))
        body = render_to_string("participants/email/invitation_body.txt", context)
    send_mail(subject, body, None, [email])


@transaction.atomic
def do_revoke_invitation(invitation: Invitation, *, actor: User) -> Invitation:
    before = snapshot(invitation, ["revoked_at"])
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record(
        "revoke",
        actor=actor,
        study=invitation.participant.study_id,
        obj=invitation,
        before=before,
        after=snapshot(invitation, ["revoked_at"]),
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The active invitation for a presented token, else None (unknown, revoked, expired)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    try:
        # get(), not first(): token_hash is unique, and no ORDER BY to compile on every request.
        # The kept link (encrypted) is read only to send a reminder, never to answer a page.
        invitation = (
            Invitation.objects.select_related("participant", "participant__study", "event")
            .defer("token_encrypted")
            .get(token_hash=digest)
        )
    except Invitation.DoesNotExist:
        invitation = None
    # The lookup is by hash (the token itself is never stored); the constant-time check
    # guards the final comparison.
    if invitation is None or not token_matches(token, invitation.token_hash):
        return None
    if not invitation.is_active or invitation.participant.withdrawn_at is not None:
        return None
    return invitation


class WithdrawnParticipantError(ValueError):
    """An invitation for a withdrawn participant: refused, whoever asks."""

    def __init__(self, participant: Participant):
        self.participant = participant
        super().__init__(
            f"{participant.study_code} withdrew from the study; withdrawn participants are "
            "never invited again"
        )
