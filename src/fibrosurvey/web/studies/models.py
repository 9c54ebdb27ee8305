"""Studies, their sites, events (visits), instrument batteries and staff memberships."""

from __future__ import annotations

import functools
import uuid

from django.conf import settings
from django.db import models

from fibrosurvey.countries import COUNTRIES, DEFAULT_COUNTRY, Country, country_choices
from fibrosurvey.web.studies.roles import Role

__all__ = [
    "ConsentVersion",
    "Event",
    "EventInstrument",
    "Membership",
    "Role",
    "Site",
    "Study",
    "StudyInstrument",
]


class Study(models.Model):
    name = models.CharField(max_length=200)
    # What participants see, per language ({"en": ..., "es": ...}); falls back to name.
    public_title = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    # What participants read about the study, per language.
    public_description = models.JSONField(default=dict, blank=True)
    template = models.CharField(max_length=64, blank=True)
    # Language codes participants may answer in, e.g. ["en", "es"].
    languages = models.JSONField(default=list)
    # Where the study runs, independent of the languages: the regions offered, the units
    # participants type, the crisis numbers and drug examples (fibrosurvey.countries). Studies
    # made before countries existed used the US Census divisions, hence the default.
    country = models.CharField(
        max_length=2,
        choices=country_choices(),
        default=DEFAULT_COUNTRY,
        help_text="Sets the regions, units, crisis numbers and drug examples participants see.",
    )
    # Consent text per language {"en": "...", "es": "..."}, versioned as a whole.
    consent_text = models.JSONField(default=dict)
    consent_version = models.CharField(max_length=32, default="1.0")
    # Who to call in a crisis, shown with the PHQ-9 item 9 safety information (per language).
    safety_contact = models.JSONField(default=dict, blank=True)
    # Where safety alerts are e-mailed besides owners and coordinators (optional).
    safety_email = models.EmailField(blank=True)
    # The study's safety contact, shown on the safety page and in the alert e-mail.
    safety_phone = models.CharField(max_length=40, blank=True)
    safety_hours = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def title_in(self, language: str) -> str:
        return self.public_title.get(language) or self.name

    def country_info(self) -> Country:
        return COUNTRIES.get(self.country) or COUNTRIES[DEFAULT_COUNTRY]


class ConsentVersion(models.Model):
    """Each consent text a study has had; ``Study.consent_version`` names the current one."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="consent_versions")
    version = models.CharField(max_length=32)
    text = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="consent_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study_id} consent {self.version}"


class Site(models.Model):
    """A recruiting site; also a data access group for site-limited members."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="sites")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="site_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Event(models.Model):
    """A time point: baseline (day 0) or a follow-up N days after baseline completion."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="events")
    code = models.SlugField(max_length=32)  # the `event` column value: baseline, followup_3m
    label = models.JSONField(default=dict)  # per language
    day_offset = models.PositiveIntegerField(default=0)
    order = models.PositiveIntegerField(default=0)
    # Days after the due date the invitation stays open (0 = no limit), and the days after
    # sending on which reminders go out.
    window_days = models.PositiveIntegerField(default=0)
    reminder_days = models.JSONField(default=list, blank=True)
    # Renewed whenever the battery changes (studies.signals), so the survey's page plan can be
    # cached per (event, battery_key) instead of read on every participant request. A random
    # key, not a counter: a rolled-back change can never make an old key mean a new battery.
    battery_key = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["order", "day_offset", "id"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="event_code_unique")]

    def __str__(self) -> str:
        return self.code

    def label_in(self, language: str) -> str:
        return self.label.get(language) or self.label.get("en") or self.code

    def instrument_ids(self) -> list[str]:
        return _read_battery(self.pk)

    def current_instrument_ids(self) -> tuple[str, ...]:
        """The battery, cached per (event, battery_key).

        Only for an Event row read in this request (e.g. with the participant's invitation):
        its key is then current, so a changed battery is never served from the cache.
        """
        return _cached_battery(self.pk, self.battery_key)


class StudyInstrument(models.Model):
    """The instrument version a study uses; frozen once the first response arrives."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="instruments")
    instrument_id = models.CharField(max_length=32)
    version = models.CharField(max_length=32)
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "instrument_id"], name="study_instrument_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.version}"


def _read_battery(event_id: int) -> list[str]:
    rows = EventInstrument.objects.filter(event_id=event_id)  # Meta ordering: position
    return list(rows.values_list("instrument_id", flat=True))


@functools.lru_cache(maxsize=4096)
def _cached_battery(event_id: int, battery_key: uuid.UUID) -> tuple[str, ...]:
    return tuple(_read_battery(event_id))


class EventInstrument(models.Model):
    """One instrument in an event's battery, in order."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="battery")
    instrument_id = models.CharField(max_length=32)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "instrument_id"], name="event_instrument_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event.code}:{self.instrument_id}"


class Membership(models.Model):
    """A staff user's role in one study; ``site`` set = sees only that site's participants."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="membership_unique")]

    def __str__(self) -> str:
        site = f" @{self.site.code}" if self.site is not None else ""
        return f"{self.user} {self.role} in {self.study}{site}"
