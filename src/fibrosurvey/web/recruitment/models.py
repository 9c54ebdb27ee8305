"""Open recruitment: a study's public link (screener, quotas, limits), every visit to it with
its screener answers and outcome, and the quality flags raised on a visit.

An open-link participant is an ordinary ``participants.Participant``; ``Visit.participant``
ties them to their recruitment source and screener answers (the participants app is not
changed). Visits and flags are research data: kept, never deleted by the application.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from fibrosurvey.recruitment import QUALITY_REASONS
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.models import Site, Study

__all__ = ["OpenLink", "QualityFlag", "Visit"]

DIRECT_SOURCE = "direct"
OTHER_SOURCE = "other"


class OpenLink(models.Model):
    """A study's open recruitment link ``/r/<slug>/`` (and ``?src=<source>`` per source)."""

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="open_link")
    slug = models.SlugField(max_length=64, unique=True)
    is_open = models.BooleanField(default=True)
    # Where open-link participants are enrolled (their data access group). RESTRICT: the site
    # goes only with its whole study.
    site = models.ForeignKey(Site, on_delete=models.RESTRICT, related_name="+")
    # Known recruitment sources (slugs); any other ?src= is recorded as "other".
    sources = models.JSONField(default=list, blank=True)
    # fibrosurvey.recruitment.screener format: questions, rules, quotas.
    screener = models.JSONField()
    # A page answered faster than this (median over pages) raises the too_fast flag.
    min_page_seconds = models.PositiveIntegerField(default=3)
    # Screener submissions per client address and per source, per RECRUIT_RATE_WINDOW.
    rate_limit_per_ip = models.PositiveIntegerField(default=10)
    rate_limit_per_source = models.PositiveIntegerField(default=600)
    # Near-identical answers: share of equal items over at least this many items.
    duplicate_threshold = models.FloatField(default=0.95)
    duplicate_min_items = models.PositiveIntegerField(default=20)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"open link {self.slug}"

    def source_of(self, requested: str | None) -> str:
        if not requested:
            return DIRECT_SOURCE
        return requested if requested in self.sources else OTHER_SOURCE


class Visit(models.Model):
    """One visitor of the open link, from the landing page to (maybe) enrolment."""

    class Outcome(models.TextChoices):
        PENDING = "", "not screened yet"
        INELIGIBLE = "ineligible"
        QUOTA_FULL = "quota_full"
        ENROLLED = "enrolled"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="visits")
    source = models.CharField(max_length=64, default=DIRECT_SOURCE)
    # The visit's own cookie value (random); lets a reload continue the same visit.
    key = models.CharField(max_length=64, unique=True)
    # HMAC of the device cookie: the same browser seen again, without storing the cookie.
    device_hash = models.CharField(max_length=64, db_index=True)
    language = models.CharField(max_length=8, default="en")
    visited_at = models.DateTimeField(default=timezone.now)
    screened_at = models.DateTimeField(null=True, blank=True)
    screener_seconds = models.FloatField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    eligible = models.BooleanField(null=True)
    unmet_rules = models.JSONField(default=list, blank=True)
    quota_cells = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    participant = models.OneToOneField(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="recruitment"
    )
    # HMACs of the e-mail address and phone digits given for follow-up (duplicate check only).
    contact_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # When the completed survey was checked (page times, straight-lining, duplicates).
    assessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["visited_at", "id"]
        indexes = [models.Index(fields=["study", "source"], name="visit_study_source")]

    def __str__(self) -> str:
        return f"visit {self.pk} ({self.source})"


class QualityFlag(models.Model):
    """One reason a visit's responses are suspect; the analysis excludes by rule, never
    deletes."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=32, choices=[(code, code) for code in QUALITY_REASONS])
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["visit_id", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "reason"], name="quality_flag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.reason} on visit {self.visit_id}"
