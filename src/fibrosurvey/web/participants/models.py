"""Participants (pseudonymous), their encrypted contact details, and survey invitations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.crypto import EncryptedTextField
from fibrosurvey.web.studies.codes import validate_code
from fibrosurvey.web.studies.models import Event, Site, Study

__all__ = ["ContactDetails", "Invitation", "Participant", "WithdrawalKind", "WithdrawalReason"]


class WithdrawalKind(models.TextChoices):
    """What a withdrawal does to the participant's research data."""

    # Data given up to the withdrawal stay in the study; no further invitation or reminder.
    NO_FURTHER_CONTACT = "no_further_contact", _("No further contact (data given so far stay)")
    # Responses, lab samples and design variables are deleted; an audit record remains.
    WITHDRAW_AND_DELETE = "withdraw_and_delete", _("Withdraw and delete research data")


class WithdrawalReason(models.TextChoices):
    PARTICIPANT_REQUEST = "participant_request", _("The participant asked to withdraw")
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", _("Lost to follow-up")
    NOT_ELIGIBLE = "not_eligible", _("Found not to be eligible")
    INVESTIGATOR_DECISION = "investigator_decision", _("Investigator's decision")
    OTHER = "other", _("Other")


class Participant(models.Model):
    """A pseudonymous participant; the study code is the `participant_id` in every export."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    study_code = models.CharField(max_length=32, validators=[validate_code])
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    language = models.CharField(max_length=8, default="en")
    enrolled_at = models.DateTimeField(default=timezone.now)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent_version = models.CharField(max_length=32, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_kind = models.CharField(max_length=24, choices=WithdrawalKind.choices, blank=True)
    withdrawal_reason = models.CharField(
        max_length=24, choices=WithdrawalReason.choices, blank=True
    )

    class Meta:
        ordering = ["study_code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "study_code"], name="participant_code_unique")
        ]

    def __str__(self) -> str:
        return self.study_code

    @property
    def has_consented(self) -> bool:
        return self.consented_at is not None


class ContactDetails(models.Model):
    """Identifying contact data, kept apart from research data and encrypted at rest.

    Only owners and coordinators see it, and every view writes an audit record.
    """

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="contact", primary_key=True
    )
    email = EncryptedTextField(blank=True, default="")
    phone = EncryptedTextField(blank=True, default="")
    name = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "participants_contact_details"

    def __str__(self) -> str:
        return f"contact details of {self.participant_id}"


class Invitation(models.Model):
    """One survey link per participant x event. Only the SHA-256 of the token is stored."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="invitations"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    # The link's token, encrypted at rest like contact details, so a reminder can send the
    # same link again instead of killing the one already e-mailed. Empty for links issued
    # before it was kept (those can only be replaced with "New link").
    token_encrypted = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Survey position for resuming: index of the page the participant last reached.
    current_page = models.PositiveIntegerField(default=0)
    language_chosen = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "event"], name="invitation_participant_event_unique"
            )
        ]

    def __str__(self) -> str:
        return f"invitation {self.participant_id}/{self.event_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
