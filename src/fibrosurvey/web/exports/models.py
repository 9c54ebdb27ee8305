"""Export support: the per-study secret for date shifting, and participants' design variables."""

from __future__ import annotations

import secrets

from django.db import models

from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.models import Site, Study

__all__ = ["AnalysisRunScope", "DesignVariables", "StudyExportKey", "study_secret"]


def _new_secret() -> str:
    return secrets.token_hex(32)


class StudyExportKey(models.Model):
    """A random secret per study; HMAC(secret, participant id) gives each participant's date
    offset. Kept in the database (not derived from SECRET_KEY) so rotating the web server's
    key does not change the offsets of later exports."""

    study = models.OneToOneField(
        Study, on_delete=models.CASCADE, primary_key=True, related_name="export_key"
    )
    secret = models.CharField(max_length=64, default=_new_secret)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"export key of study {self.study_id}"


def study_secret(study: Study) -> str:
    """The study's date-shift secret (created on first use), shared by every output."""
    key, _ = StudyExportKey.objects.get_or_create(study=study)
    return key.secret


class DesignVariables(models.Model):
    """Survey design of a participant (stratum, cluster, weight, fpc), when sampled by design."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, primary_key=True, related_name="design"
    )
    stratum = models.IntegerField(null=True, blank=True)
    psu = models.IntegerField(null=True, blank=True)
    weight = models.FloatField(null=True, blank=True)
    fpc = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"design of {self.participant_id}"


class AnalysisRunScope(models.Model):
    """The site an analysis run's dataset is limited to, fixed when the run is requested:
    a site-limited requester's runs hold their site only (``site`` set); a study-wide
    requester's hold every site (``site`` null). Only members who could request the same
    run may read its report."""

    run = models.OneToOneField(
        "analyses.AnalysisRun", on_delete=models.CASCADE, primary_key=True, related_name="scope"
    )
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)

    def __str__(self) -> str:
        return f"scope of analysis run {self.run_id}: {self.site_id or 'every site'}"
