"""Study set-up: create from a template, add sites and members, freeze instrument versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from fibrosurvey.countries import COUNTRIES, DEFAULT_COUNTRY
from fibrosurvey.instruments import get_instrument
from fibrosurvey.web.api.models import ApiToken
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.ops.text import control_characters
from fibrosurvey.web.studies.codes import code_problem
from fibrosurvey.web.studies.models import (
    Event,
    EventInstrument,
    Membership,
    Site,
    Study,
    StudyInstrument,
)
from fibrosurvey.web.studies.roles import Role
from fibrosurvey.web.studies.templates_catalog import TEMPLATES

__all__ = [
    "MembershipError",
    "do_add_member",
    "do_add_site",
    "do_change_member",
    "do_create_study",
    "do_create_study_from_template",
    "do_remove_member",
    "freeze_instrument_version",
]


@transaction.atomic
def do_create_study(
    *,
    name: str,
    owner: User,
    events: list[dict[str, Any]],
    languages: list[str],
    consent_text: dict[str, str],
    consent_version: str = "1.0",
    sites: Sequence[tuple[str, str]] = (),
    safety_contact: dict[str, str] | None = None,
    template: str = "",
    description: str = "",
    public_title: dict[str, str] | None = None,
    country: str = DEFAULT_COUNTRY,
) -> Study:
    """Create a study with its events and batteries; the owner becomes a member (owner).

    events: [{"code", "label": {lang: text}, "day_offset", "instruments": [ids]}]. Each
    instrument's current version in the core is recorded per study (frozen later).
    Raises ValueError for a name holding control characters (it goes into e-mail subjects),
    or for a country fibrosurvey does not know.
    """
    if country not in COUNTRIES:
        raise ValueError(f"unknown country {country!r}; allowed: {', '.join(COUNTRIES)}")
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
        country=country,
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
    owner: User,
    template: str = "national_fibromyalgia_survey",
    sites: Sequence[tuple[str, str]] = (),
    country: str = DEFAULT_COUNTRY,
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
        country=country,
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
def do_add_site(study: Study, *, code: str, name: str, actor: User) -> Site:
    if problem := code_problem(code):
        raise ValueError(f"site code: {problem}")
    site = Site.objects.create(study=study, code=code, name=name)
    record("create", actor=actor, study=study, obj=site, after=snapshot(site))
    return site


@transaction.atomic
def do_add_member(
    study: Study, *, user: User, role: str, actor: User, site: Site | None = None
) -> Membership:
    membership = Membership.objects.create(study=study, user=user, role=role, site=site)
    record("create", actor=actor, study=study, obj=membership, after=snapshot(membership))
    return membership


class MembershipError(ValueError):
    """A member change that would leave the study without an owner."""


def _other_owners(membership: Membership) -> int:
    # Lock the study's owner rows: two owners demoting each other at the same moment must
    # not both succeed and leave nobody able to manage the study.
    owners = Membership.objects.select_for_update().filter(
        study_id=membership.study_id, role=Role.OWNER
    )
    return sum(1 for pk in owners.values_list("pk", flat=True) if pk != membership.pk)


@transaction.atomic
def do_change_member(
    membership: Membership, *, role: str, site: Site | None, actor: User
) -> Membership:
    """Change a member's role and site limit; the last owner cannot stop being one."""
    if role not in Role.values:
        raise MembershipError(f"unknown role {role!r}; allowed: {', '.join(Role.values)}")
    if site is not None and site.study_id != membership.study_id:
        raise MembershipError(f"site {site.code} is not a site of this study")
    if membership.role == Role.OWNER and role != Role.OWNER and _other_owners(membership) == 0:
        raise MembershipError(
            f"{membership.user.get_username()} is the study's only owner; "
            "make another member owner first"
        )
    before = snapshot(membership, ["role", "site"])
    membership.role = role
    membership.site = site
    membership.save(update_fields=["role", "site"])
    record(
        "update",
        actor=actor,
        study=membership.study_id,
        obj=membership,
        before=before,
        after=snapshot(membership, ["role", "site"]),
    )
    return membership


@transaction.atomic
def do_remove_member(membership: Membership, *, actor: User) -> None:
    """Offboarding: the membership goes, and with it the member's API tokens for the study."""
    if membership.role == Role.OWNER and _other_owners(membership) == 0:
        raise MembershipError(
            f"{membership.user.get_username()} is the study's only owner and cannot be removed"
        )
    tokens = ApiToken.objects.filter(
        user_id=membership.user_id, study_id=membership.study_id, revoked_at__isnull=True
    )
    for token in tokens:
        token.revoke()
        record(
            "revoke",
            actor=actor,
            study=membership.study_id,
            obj=token,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at.isoformat() if token.revoked_at else None},
        )
    before = snapshot(membership) | {"user": membership.user.get_username()}
    record("delete", actor=actor, study=membership.study_id, obj=membership, before=before)
    membership.delete()


def freeze_instrument_version(study_id: int, instrument_id: str) -> str:
    """The study's version of an instrument, frozen from now on (first response).

    The conditional UPDATE locks the row only while it is not yet frozen, so participants
    starting the same instrument do not queue on it once it is.
    """
    rows = StudyInstrument.objects.filter(study_id=study_id, instrument_id=instrument_id)
    rows.filter(frozen_at__isnull=True).update(frozen_at=timezone.now())
    return str(rows.values_list("version", flat=True).get())
