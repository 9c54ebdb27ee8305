"""A study's own instruments: each saved version of a definition, in our YAML schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fibrosurvey.web.studies.models import Study

__all__ = ["InstrumentVersion"]


class InstrumentVersion(models.Model):
    """One version of a study's own instrument. Never edited: a change is a new version.

    ``definition`` is the canonical YAML the core loads (whatever the upload's format);
    ``number`` N is the definition's version ``N.0.0``, the value responses record.
    """

    class Source(models.TextChoices):
        YAML = "yaml", "YAML"
        REDCAP = "redcap", "REDCap data dictionary"
        FHIR = "fhir", "FHIR Questionnaire"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="instrument_versions")
    instrument_id = models.CharField(max_length=32)
    number = models.PositiveIntegerField()
    definition = models.TextField()
    digest = models.CharField(max_length=64)
    # The version new responses get; older ones stay for the responses that have them.
    current = models.BooleanField(default=True)
    source_kind = models.CharField(max_length=8, choices=Source.choices)
    source_name = models.CharField(max_length=255, blank=True)
    # What the import could not convert: [{"line": ..., "field": ..., "reason": ...}].
    refusals = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["instrument_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "instrument_id", "number"], name="instrument_version_unique"
            ),
            models.UniqueConstraint(
                fields=["study", "instrument_id"],
                condition=models.Q(current=True),
                name="instrument_version_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} v{self.number}"

    @property
    def version(self) -> str:
        return version_label(self.number)


def version_label(number: int) -> str:
    return f"{number}.0.0"
