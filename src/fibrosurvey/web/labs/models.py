"""Lab samples (one per participant x event, with pre-analytical metadata) and their results.

Values are stored in pmol/mL, converted by the core (``fibrosurvey.biomarkers``); the unit the
lab reported is kept for provenance. Column names of the analysis dataset map 1:1 onto the
fields here (``lab_minutes_to_centrifuge`` -> ``LabSample.minutes_to_centrifuge``).

A result can be corrected or retracted (with a reason, audited with the old and new values).
``LabResult.objects`` holds only the results in force (as reported or corrected): everything
that builds analysis data reads it, so a retracted result drops out of the analysis without
each reader having to remember. ``LabResult.all_results`` also holds the retracted ones.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.models import Event, Study

__all__ = ["DATE_FIELDS", "PREANALYTICAL_FIELDS", "LabImport", "LabResult", "LabSample"]

# Analysis-dataset column -> LabSample field.
PREANALYTICAL_FIELDS: dict[str, str] = {
    "lab_matrix": "matrix",
    "lab_tube": "tube",
    "lab_draw_time": "draw_time",
    "lab_fasting": "fasting",
    "lab_hours_since_meal": "hours_since_meal",
    "lab_minutes_to_centrifuge": "minutes_to_centrifuge",
    "lab_processing_temp_c": "processing_temp_c",
    "lab_freeze_thaw": "freeze_thaw",
    "lab_storage_days": "storage_days",
    "lab_storage_temp_c": "storage_temp_c",
    "lab_assay": "assay",
    "lab_batch": "batch",
}
# Lab-table date column -> LabSample field. Not an analysis-dataset column: a date identifies
# people, so a de-identified export must shift it (fibrosurvey.biomarkers.LAB_DATE_COLUMNS).
DATE_FIELDS: dict[str, str] = {"lab_draw_date": "draw_date"}


class LabImport(models.Model):
    """One accepted lab file (rejected files store nothing)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="lab_imports")
    file_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    samples_created = models.PositiveIntegerField()
    results_created = models.PositiveIntegerField()
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"lab import {self.pk} ({self.rows} rows)"


class LabSample(models.Model):
    """One blood sample of a participant at an event, with its pre-analytical metadata."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="lab_samples"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="lab_samples")
    lab_import = models.ForeignKey(
        LabImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="samples"
    )
    matrix = models.CharField(max_length=16)  # plasma | serum | whole_blood
    tube = models.CharField(max_length=64, blank=True)
    draw_time = models.CharField(max_length=5, blank=True)  # HH:MM clock time (the covariate)
    draw_date = models.DateField(null=True, blank=True)  # identifying: shift it when exported
    fasting = models.PositiveSmallIntegerField(null=True, blank=True)
    hours_since_meal = models.FloatField(null=True, blank=True)
    minutes_to_centrifuge = models.FloatField(null=True, blank=True)
    processing_temp_c = models.FloatField(null=True, blank=True)
    freeze_thaw = models.PositiveSmallIntegerField(null=True, blank=True)
    storage_days = models.FloatField(null=True, blank=True)
    storage_temp_c = models.FloatField(null=True, blank=True)
    assay = models.CharField(max_length=128)
    batch = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant_id", "event_id"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "event"], name="lab_sample_unique")
        ]

    def __str__(self) -> str:
        return f"lab sample {self.participant_id}/{self.event_id}"


class CurrentLabResultManager(models.Manager["LabResult"]):
    """Results in force: as reported or corrected, never retracted."""

    def get_queryset(self) -> models.QuerySet[LabResult]:
        return super().get_queryset().exclude(status=LabResult.Status.RETRACTED)


class LabResult(models.Model):
    """One analyte measured in a sample, in pmol/mL; the row holds the value in force."""

    class Status(models.TextChoices):
        REPORTED = "reported", _("as reported")
        CORRECTED = "corrected", _("corrected")
        RETRACTED = "retracted", _("retracted")

    sample = models.ForeignKey(LabSample, on_delete=models.CASCADE, related_name="results")
    analyte = models.CharField(max_length=8)  # aea | twoag | pea | oea | sea
    value_pmol_ml = models.FloatField()  # the LLOQ when below_lloq
    lloq = models.FloatField(null=True, blank=True)  # pmol/mL
    below_lloq = models.BooleanField(default=False)
    includes_1ag = models.BooleanField(null=True, blank=True)  # 2-AG rows only
    unit_reported = models.CharField(max_length=16)
    # The old values of a corrected or retracted result are in the audit trail.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REPORTED)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CurrentLabResultManager()
    all_results = models.Manager()

    class Meta:
        ordering = ["sample_id", "analyte"]
        base_manager_name = "all_results"  # deletes and related lookups see retracted ones too
        constraints = [
            # One result in force per sample and analyte; a retracted one may be re-imported.
            models.UniqueConstraint(
                fields=["sample", "analyte"],
                condition=~Q(status="retracted"),
                name="lab_result_unique_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.analyte}={self.value_pmol_ml:g} pmol/mL"
