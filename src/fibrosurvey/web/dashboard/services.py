"""Numbers for the researcher dashboard, always restricted to the member's site."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Count, Q

from fibrosurvey.instruments import get_instrument
from fibrosurvey.instruments.translation import LanguageStatus, language_status
from fibrosurvey.web.labs import dashboard as labs_dashboard
from fibrosurvey.web.participants.models import Invitation, Participant
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import filter_to_site, visible_sites
from fibrosurvey.web.survey.models import Response, SafetyAlert

__all__ = [
    "instrument_completion",
    "lab_sample_summary",
    "open_safety_alerts",
    "study_progress",
    "version_mismatches",
]


@dataclass(frozen=True)
class EventProgress:
    event: str
    invited: int
    opened: int
    completed: int

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.invited) if self.invited else 0


@dataclass(frozen=True)
class SiteProgress:
    code: str
    name: str
    enrolled: int
    consented: int
    withdrawn: int
    events: list[EventProgress]  # in the study's event order


@dataclass(frozen=True)
class StudyProgress:
    sites: list[SiteProgress]
    totals: SiteProgress  # the same numbers summed over the sites the member may see


def study_progress(membership: Membership) -> StudyProgress:
    """Enrolment and survey completion per site and event (site-limited members: their site)."""
    study = membership.study
    event_codes = [event.code for event in study.events.all()]
    participants = filter_to_site(Participant.objects.filter(study=study), membership)
    enrolment: dict[int, Mapping[str, Any]] = {
        row["site_id"]: row
        for row in participants.values("site_id").annotate(
            enrolled=Count("id"),
            consented=Count("id", filter=Q(consented_at__isnull=False)),
            withdrawn=Count("id", filter=Q(withdrawn_at__isnull=False)),
        )
    }
    invitations = filter_to_site(
        Invitation.objects.filter(participant__study=study),
        membership,
        site_field="participant__site",
    )
    completion: dict[tuple[int, str], Mapping[str, Any]] = {
        (row["participant__site_id"], row["event__code"]): row
        for row in invitations.values("participant__site_id", "event__code").annotate(
            invited=Count("id"),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
        )
    }
    sites = visible_sites(membership)
    rows = []
    for site in sites:
        counts = enrolment.get(site.pk, {})
        events = []
        for code in event_codes:
            row = completion.get((site.pk, code), {})
            events.append(
                EventProgress(
                    code, row.get("invited", 0), row.get("opened", 0), row.get("completed", 0)
                )
            )
        rows.append(
            SiteProgress(
                site.code,
                site.name,
                counts.get("enrolled", 0),
                counts.get("consented", 0),
                counts.get("withdrawn", 0),
                events,
            )
        )
    totals = SiteProgress(
        "",
        "",
        sum(r.enrolled for r in rows),
        sum(r.consented for r in rows),
        sum(r.withdrawn for r in rows),
        [
            EventProgress(
                code,
                sum(r.events[i].invited for r in rows),
                sum(r.events[i].opened for r in rows),
                sum(r.events[i].completed for r in rows),
            )
            for i, code in enumerate(event_codes)
        ],
    )
    return StudyProgress(sites=rows, totals=totals)


@dataclass(frozen=True)
class InstrumentCompletion:
    event: str
    instrument_id: str
    complete: int
    in_progress: int
    # Items most often left blank in complete responses: (column, percent missing).
    missing: list[tuple[str, float]]
    mean_missing_percent: float


def instrument_completion(membership: Membership) -> list[InstrumentCompletion]:
    responses = filter_to_site(
        Response.objects.filter(participant__study=membership.study),
        membership,
        site_field="participant__site",
    )
    out: list[InstrumentCompletion] = []
    for event in membership.study.events.all():
        for instrument_id in event.instrument_ids():
            rows = responses.filter(event=event, instrument_id=instrument_id)
            complete_answers = list(
                rows.filter(status=Response.Status.COMPLETE).values_list("answers", flat=True)
            )
            in_progress = rows.filter(status=Response.Status.IN_PROGRESS).count()
            missing: list[tuple[str, float]] = []
            mean_missing = 0.0
            columns = get_instrument(instrument_id).item_columns()
            if complete_answers:
                frame = pl.DataFrame(
                    [{c: a.get(c) for c in columns} for a in complete_answers],
                    schema=dict.fromkeys(columns, pl.Float64),
                )
                percent = frame.null_count().row(0)
                pairs = [(c, 100 * n / frame.height) for c, n in zip(columns, percent, strict=True)]
                mean_missing = sum(p for _, p in pairs) / len(pairs)
                missing = sorted((p for p in pairs if p[1] > 0), key=lambda p: -p[1])[:5]
            out.append(
                InstrumentCompletion(
                    event=event.code,
                    instrument_id=instrument_id,
                    complete=len(complete_answers),
                    in_progress=in_progress,
                    missing=missing,
                    mean_missing_percent=mean_missing,
                )
            )
    return out


def open_safety_alerts(membership: Membership) -> list[SafetyAlert]:
    alerts = filter_to_site(
        SafetyAlert.objects.filter(study=membership.study).exclude(
            status=SafetyAlert.Status.CLOSED
        ),
        membership,
        site_field="participant__site",
    )
    return list(alerts.select_related("participant", "participant__site", "event"))


def lab_sample_summary(membership: Membership) -> dict[str, Any]:
    """Lab samples received and flagged, as the labs app counts them (member's sites only)."""
    return labs_dashboard.lab_sample_summary(membership.study, membership)


def version_mismatches(membership: Membership) -> list[tuple[str, str, str]]:
    """(instrument, frozen version, version the core now serves) for every frozen instrument
    whose definition has changed since: answers collected from now on follow the new text,
    so the team must decide (new study version, or keep collecting and note it)."""
    out = []
    for frozen in membership.study.instruments.filter(frozen_at__isnull=False):
        current = get_instrument(frozen.instrument_id).version
        if current != frozen.version:
            out.append((frozen.instrument_id, frozen.version, current))
    return out


@dataclass(frozen=True)
class InstrumentTranslations:
    instrument_id: str
    title: str
    version: str
    languages: list[LanguageStatus]  # one per study language, in the study's order


def instrument_translations(membership: Membership) -> list[InstrumentTranslations]:
    """Each study instrument's language versions: validated, unchecked wording, or neither."""
    study = membership.study
    rows = []
    for frozen in study.instruments.all():
        instrument = get_instrument(frozen.instrument_id)
        rows.append(
            InstrumentTranslations(
                frozen.instrument_id,
                instrument.title.get("en", frozen.instrument_id),
                frozen.version,
                [language_status(instrument, code) for code in study.languages],
            )
        )
    return rows
