"""Captured research data: responses (one per participant x event x instrument), consent
records, per-page submission nonces and PHQ-9 item 9 safety alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.crypto import EncryptedTextField
from fibrosurvey.web.participants.models import Invitation, Participant
from fibrosurvey.web.studies.models import Event, Study

__all__ = [
    "ConsentRecord",
    "IdentifierAnswer",
    "PageSubmission",
    "Response",
    "SafetyAlert",
    "SafetyAlertNote",
]


class Response(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETE = "complete"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="responses")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="responses")
    instrument_id = models.CharField(max_length=32)
    instrument_version = models.CharField(max_length=32)
    # {column: value or null}, keyed by flat-file column (e.g. "phq9_9").
    answers = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    # Scores from fibrosurvey.scoring.score_response, set when the instrument completes.
    scores = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["participant_id", "event_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "event", "instrument_id"],
                name="response_participant_event_instrument_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.event_id}/{self.instrument_id}"


class ConsentRecord(models.Model):
    """A participant's consent: which version, in which language, when."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    version = models.CharField(max_length=32)
    language = models.CharField(max_length=8)
    accepted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"consent {self.participant_id} v{self.version}"


class PageSubmission(models.Model):
    """One accepted page submission; a replayed form (same invitation, page and nonce) is
    recognised and ignored. Nonces are scoped: another link's or page's nonce never
    collides."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    page_index = models.PositiveIntegerField()
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "page_index", "nonce"], name="page_submission_unique"
            )
        ]


class SafetyAlert(models.Model):
    """PHQ-9 item 9 answered above 0: a case the study team follows up (open -> contacted ->
    closed), with notes (:class:`SafetyAlertNote`)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CONTACTED = "contacted", _("contacted")
        CLOSED = "closed", _("closed")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="safety_alerts")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="safety_alerts"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    item_column = models.CharField(max_length=32, default="phq9_9")
    value = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # When and by whom the case was closed (null while open or contacted).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One alert per participant x event x item; a changed answer updates it.
            models.UniqueConstraint(
                fields=["participant", "event", "item_column"], name="safety_alert_unique"
            )
        ]

    def __str__(self) -> str:
        return f"safety alert {self.participant_id} {self.item_column}={self.value}"


class SafetyAlertNote(models.Model):
    """One step in a safety case: a note, and the status it moved the case to."""

    alert = models.ForeignKey(SafetyAlert, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    status_before = models.CharField(max_length=16, choices=SafetyAlert.Status.choices)
    status_after = models.CharField(max_length=16, choices=SafetyAlert.Status.choices)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"note on alert {self.alert_id}: {self.status_before} -> {self.status_after}"


class IdentifierAnswer(models.Model):
    """A participant's answer to an item marked ``identifier`` (a name, a date of birth...).

    Never in ``Response.answers`` and never exported: kept apart and encrypted like contact
    details (FIELD_ENCRYPTION_KEY, ``rotate_encryption_key``); its audit records hold no value.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="identifier_answers"
    )
    instrument_id = models.CharField(max_length=32)
    column = models.CharField(max_length=64)
    value = EncryptedTextField(blank=True, default="")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["participant_id", "instrument_id", "column"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "instrument_id", "column"],
                name="identifier_answer_participant_instrument_column_unique",
            )
        ]

    def __str__(self) -> str:
        return f"identifier {self.column} of participant {self.participant_id}"
