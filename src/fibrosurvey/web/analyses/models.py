"""Analysis runs: a plan run on the study's current data, as a background job."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fibrosurvey.web.studies.models import Study

__all__ = ["AnalysisRun"]


class AnalysisRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="analysis_runs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    plan_source = models.CharField(max_length=255)  # "default plan" or the uploaded file name
    plan_text = models.TextField()
    plan_sha256 = models.CharField(max_length=64)
    # None: the plan's own number of imputations; 0 skips multiple imputation.
    imputations = models.PositiveSmallIntegerField(null=True, blank=True)
    data_sha256 = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    report_html = models.TextField(blank=True)
    results = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    # What the run assumed that the user should know (e.g. no sampling design recorded).
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="analysis_run_queue")]

    def __str__(self) -> str:
        return f"analysis run {self.pk} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
