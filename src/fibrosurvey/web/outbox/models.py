"""E-mails waiting to be sent: written in the same transaction as the change they report,
sent later by the worker (``send_outbox``), so a mail server that is down never fails the
request that caused the e-mail and never loses the e-mail."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from fibrosurvey.web.studies.models import Study

__all__ = ["OutboxEmail"]


class OutboxEmail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # waiting for its first or next attempt
        SENT = "sent"
        FAILED = "failed"  # gave up after the last attempt; shown on the study dashboard

    study = models.ForeignKey(
        Study, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox_emails"
    )
    kind = models.CharField(max_length=32)  # e.g. "safety_alert"
    subject = models.CharField(max_length=255)  # one line: newlines would be a header error
    body = models.TextField()
    recipients = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} e-mail {self.pk} ({self.status}, {self.attempts} attempts)"
