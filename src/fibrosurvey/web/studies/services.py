"""Study set-up: create from a template, add sites and members, freeze instrument versions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from fibrosurvey.instruments import get_instrument
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.ops.text import control_characters
from fibrosurvey.web.studies.models import (
    Event,
    EventInstrument,
    Membership,
    Site,
    Study,
    StudyInstrument,
)
from fibrosurvey.web.studies.templates_catalog import TEMPLATES

__all__ = [
    "do_add_member",
    "do_add_site",
    "do_create_study",
    "do_create_study_from_template",
    "freeze_instrument_version",
]


@transaction.atomic
def do_create_study(
    *,
    name: str,
    owner: Any,
    events: list[dict[str, Any]],
    languages: list[str],
    consent_text: dict[str, str],
    consent_version: str = "1.0",
    sites: list[tuple[str, str]] = (),  # type: ignore[assignment]
    safety_contact: dict[str, str] | None = None,
    template: str = "",
    description: str = "",
    public_title: dict[str, str] | None = None,
) -> Study:
    """Create a study with its events and batteries; the owner becomes a member (owner).

    events: [{"code", "label": {lang: text}, "day_offset", "instruments": [ids]}]. Each
    instrument's current version in the core is recorded per study (frozen later).
    Raises ValueError for a name holding control characters (it goes into e-mail subjects).
    """
    if control_characters(name):
        raise ValueError(
            f"the study name holds control characters ({', '.join(control_characters(name))}); "
            "a name is one line of text"
        )
    study = Study.objects.create(
        name=name,
        public_title=dict(public_title or {}),
        description=description,
        template=template,
        languages=list(languages),
        consent_text=dict(consent_text),
        consent_version=consent_version,
        safety_contact=dict(safety_contact or {}),
        created_by=owner,
    )
    record("create", actor=owner, study=study, obj=study, after=snapshot(study))
    seen: set[str] = set()
    for order, spec in enumerate(events):
        event = Event.objects.create(
            study=study,
            code=spec["code"],
            label=dict(spec.get("label") or {}),
            day_offset=int(spec.get("day_offset", 0)),
            order=order,
        )
        for position, instrument_id in enumerate(spec["instruments"]):
            EventInstrument.objects.create(
                event=event, instrument_id=instrument_id, position=position
            )
            if instrument_id not in seen:
                seen.add(instrument_id)
                StudyInstrument.objects.create(
                    study=study,
                    instrument_id=instrument_id,
                    version=get_instrument(instrument_id).version,
                )
    for code, site_name in sites:
        do_add_site(study, code=code, name=site_name, actor=owner)
    Membership.objects.create(study=study, user=owner, role="owner")
    record(
        "create",
        actor=owner,
        study=study,
        object_type="studies.membership",
        object_id=f"{owner.pk}",
        after={"user": owner.get_username(), "role": "owner"},
    )
    return study


def do_create_study_from_template(
    *,
    name: str,
    owner: Any,
    template: str = "national_fibromyalgia_survey",
    sites: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> Study:
    try:
        spec = TEMPLATES[template]
    except KeyError:
        raise ValueError(
            f"unknown study template {template!r}; available: {', '.join(TEMPLATES)}"
        ) from None
    return do_create_study(
        name=name,
        owner=owner,
        template=spec.key,
        public_title=dict(spec.name),
        languages=list(spec.languages),
        consent_text=spec.consent_text,
        consent_version=spec.consent_version,
        safety_contact=spec.safety_contact,
        sites=sites,
        events=[
            {
                "code": event.code,
                "label": event.label,
                "day_offset": event.day_offset,
                "instruments": list(event.instruments),
            }
            for event in spec.events
        ],
    )


@transaction.atomic
def do_add_site(study: Study, *, code: str, name: str, actor: Any) -> Site:
    site = Site.objects.create(study=study, code=code, name=name)
    record("create", actor=actor, study=study, obj=site, after=snapshot(site))
    return site


@transaction.atomic
def do_add_member(
    study: Study, *, user: Any, role: str, actor: Any, site: Site | None = None
) -> Membership:
    membership = Membership.objects.create(study=study, user=user, role=role, site=site)
    record("create", actor=actor, study=study, obj=membership, after=snapshot(membership))
    return membership


def freeze_instrument_version(study_id: int, instrument_id: str) -> str:
    """The study's version of an instrument, frozen from now on (first response).

    The conditional UPDATE locks the row only while it is not yet frozen, so participants
    starting the same instrument do not queue on it once it is.
    """
    rows = StudyInstrument.objects.filter(study_id=study_id, instrument_id=instrument_id)
    rows.filter(frozen_at__isnull=True).update(frozen_at=timezone.now())
    return str(rows.values_list("version", flat=True).get())
