"""Background jobs: long, all-or-nothing imports that must not run inside a web request."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from fibrosurvey.web.crypto import EncryptedTextField
from fibrosurvey.web.studies.models import Study

__all__ = ["Job"]


class Job(models.Model):
    class Kind(models.TextChoices):
        ENROL_CSV = "enrol_csv", "Enrol participants from CSV"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # Progress, written outside the job's own transaction so the progress page sees it.
    phase = models.CharField(max_length=64, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # The uploaded file holds contact details: encrypted at rest, emptied when the job ends.
    payload = EncryptedTextField(blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    # Row-level problems found by the job: fibrosurvey.problems.Problem.as_dict() of each
    # ({"row", "column", "value", "allowed", "message"}; jobs failed before it say "field").
    problems = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.kind}, {self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
