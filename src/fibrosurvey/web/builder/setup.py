"""The study owner's own settings: public title and description, languages, safety contact,
consent (versioned), and events with their ordered batteries.

A change that would alter collected data is refused: a language participants answer in, an
instrument with answers at an event. Every change is audited with before/after.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from fibrosurvey.countries import COUNTRIES
from fibrosurvey.instruments import get_instrument, load_instruments
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.builder.models import InstrumentVersion
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.codes import code_problem
from fibrosurvey.web.studies.models import (
    ConsentVersion,
    Event,
    EventInstrument,
    Study,
    StudyInstrument,
)
from fibrosurvey.web.survey.models import Response

__all__ = [
    "SETTINGS_FIELDS",
    "SetupRefused",
    "available_instruments",
    "do_add_event",
    "do_change_consent",
    "do_change_event",
    "do_change_settings",
    "next_consent_version",
]

SETTINGS_FIELDS = [
    "public_title",
    "public_description",
    "languages",
    "country",
    "safety_phone",
    "safety_email",
    "safety_hours",
]


class SetupRefused(ValueError):
    """A settings change that would alter collected data or leave the study unusable."""


@transaction.atomic
def do_change_settings(study: Study, *, actor: User, **values: Any) -> Study:
    """Change the fields in :data:`SETTINGS_FIELDS` (others are refused)."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise SetupRefused(f"unknown settings {sorted(unknown)}; allowed: {SETTINGS_FIELDS}")
    languages = values.get("languages", study.languages)
    if not languages:
        raise SetupRefused("offer at least one language")
    dropped = set(study.languages) - set(languages)
    in_use = sorted(
        set(
            Participant.objects.filter(study=study, language__in=dropped).values_list(
                "language", flat=True
            )
        )
    )
    if in_use:
        raise SetupRefused(
            f"participants answer in {', '.join(in_use)}: that language stays offered"
        )
    country = values.get("country", study.country)
    if country not in COUNTRIES:
        raise SetupRefused(f"unknown country {country!r}; allowed: {', '.join(COUNTRIES)}")
    if country != study.country and Response.objects.filter(participant__study=study).exists():
        raise SetupRefused(
            "the study has answers given with its country's regions and wording: "
            "the country cannot change now"
        )
    before = snapshot(study, SETTINGS_FIELDS)
    for name, value in values.items():
        setattr(study, name, value)
    study.save(update_fields=list(values))
    after = snapshot(study, SETTINGS_FIELDS)
    if after != before:
        record("update", actor=actor, study=study, obj=study, before=before, after=after)
    return study


def next_consent_version(current: str) -> str:
    """ "1.0" -> "2", "2" -> "3": the leading whole number plus one."""
    match = re.match(r"\d+", current)
    return str(int(match.group()) + 1) if match else f"{current}.1"


@transaction.atomic
def do_change_consent(study: Study, *, text: dict[str, str], actor: User) -> ConsentVersion | None:
    """A new consent version when the text changed (None when it did not).

    Participants who consented to an older version are asked again at their next page: the
    write rule (survey.rules) refuses answers under a consent that is not the current one.
    """
    text = {language: value.strip() for language, value in text.items() if value.strip()}
    missing = [language for language in study.languages if language not in text]
    if missing:
        raise SetupRefused(f"the consent needs a text in every offered language: {missing}")
    study = Study.objects.select_for_update().get(pk=study.pk)
    if text == study.consent_text:
        return None
    if not study.consent_versions.filter(version=study.consent_version).exists():
        # Keep the text participants consented to so far before replacing it.
        ConsentVersion.objects.create(
            study=study, version=study.consent_version, text=study.consent_text
        )
    before = snapshot(study, ["consent_version", "consent_text"])
    version = next_consent_version(study.consent_version)
    while study.consent_versions.filter(version=version).exists():
        version = next_consent_version(version)
    consent = ConsentVersion.objects.create(
        study=study, version=version, text=text, created_by=actor
    )
    study.consent_text = text
    study.consent_version = version
    study.save(update_fields=["consent_text", "consent_version"])
    record(
        "update",
        actor=actor,
        study=study,
        obj=study,
        before=before,
        after=snapshot(study, ["consent_version", "consent_text"]),
    )
    return consent


def available_instruments(study: Study) -> dict[str, str]:
    """Instrument ids a battery may hold: built-in ones and the study's own, with titles."""
    found = {i.id: i.title.get("en", i.id) for i in load_instruments().values()}
    for instrument_id in (
        InstrumentVersion.objects.filter(study=study, current=True)
        .values_list("instrument_id", flat=True)
        .order_by("instrument_id")
    ):
        found[instrument_id] = get_instrument(instrument_id).title.get("en", instrument_id)
    return found


def _check_schedule(day_offset: int, window_days: int, reminder_days: Sequence[int]) -> None:
    if day_offset < 0 or window_days < 0 or any(day <= 0 for day in reminder_days):
        raise SetupRefused(
            "days are whole numbers: offset and window 0 or more, reminders 1 or more"
        )
    if window_days and any(day > window_days for day in reminder_days):
        raise SetupRefused(
            f"a reminder after the window closes (day {max(reminder_days)} > {window_days})"
        )


@transaction.atomic
def do_add_event(
    study: Study,
    *,
    code: str,
    label: dict[str, str],
    day_offset: int,
    window_days: int = 0,
    reminder_days: Sequence[int] = (),
    actor: User,
) -> Event:
    if problem := code_problem(code):
        raise SetupRefused(f"event code: {problem}")
    if study.events.filter(code=code).exists():
        raise SetupRefused(f"the study has an event {code!r} already")
    _check_schedule(day_offset, window_days, reminder_days)
    event = Event.objects.create(
        study=study,
        code=code,
        label=label,
        day_offset=day_offset,
        window_days=window_days,
        reminder_days=sorted(set(reminder_days)),
        order=study.events.count(),
    )
    record("create", actor=actor, study=study, obj=event, after=snapshot(event))
    return event


_EVENT_FIELDS = ["label", "day_offset", "window_days", "reminder_days"]


@transaction.atomic
def do_change_event(
    event: Event,
    *,
    label: dict[str, str],
    day_offset: int,
    window_days: int,
    reminder_days: Sequence[int],
    battery: Sequence[str],
    actor: User,
) -> Event:
    """Change an event's schedule and its ordered battery.

    An instrument that has answers at this event stays in the battery: dropping it would
    hide collected data from the survey and the participant's record.
    """
    study = event.study
    _check_schedule(day_offset, window_days, reminder_days)
    battery = list(dict.fromkeys(battery))
    known = available_instruments(study)
    unknown = [i for i in battery if i not in known]
    if unknown:
        raise SetupRefused(f"unknown instruments {unknown}; available: {', '.join(known)}")
    if not battery:
        raise SetupRefused("an event needs at least one instrument")
    old_battery = event.instrument_ids()
    dropped = set(old_battery) - set(battery)
    answered = sorted(
        set(
            Response.objects.filter(event=event, instrument_id__in=dropped).values_list(
                "instrument_id", flat=True
            )
        )
    )
    if answered:
        raise SetupRefused(
            f"{', '.join(answered)} has answers at {event.code}: it stays in the battery"
        )
    before = snapshot(event, _EVENT_FIELDS) | {"battery": old_battery}
    event.label = label
    event.day_offset = day_offset
    event.window_days = window_days
    event.reminder_days = sorted(set(reminder_days))
    event.save(update_fields=_EVENT_FIELDS)
    if battery != old_battery:
        EventInstrument.objects.filter(event=event).delete()
        for position, instrument_id in enumerate(battery):
            EventInstrument.objects.create(
                event=event, instrument_id=instrument_id, position=position
            )
            StudyInstrument.objects.get_or_create(
                study=study,
                instrument_id=instrument_id,
                defaults={"version": get_instrument(instrument_id).version},
            )
    after = snapshot(event, _EVENT_FIELDS) | {"battery": battery}
    if after != before:
        record("update", actor=actor, study=study, obj=event, before=before, after=after)
    return event
