"""Open recruitment actions: open a study's link, start a visit, screen (and maybe enrol),
take optional contact details, assess completed surveys; flow counts and the analysis columns.

Enrolment, invitations, consent and contact encryption go through the participants and survey
services, so an open-link participant is an ordinary participant from then on.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.problems import Problem
from fibrosurvey.recruitment import (
    DEFAULT_SCREENER,
    Screener,
    ScreenerError,
    ScreenOutcome,
    parse_screener,
    too_fast,
)
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.participants.enrolment import do_enrol_participant
from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.participants.models import ContactDetails, Invitation, Participant
from fibrosurvey.web.recruitment.models import OpenLink, QualityFlag, Visit
from fibrosurvey.web.studies.models import Event, Site, Study
from fibrosurvey.web.survey.services import do_choose_language

__all__ = [
    "ScreenResult",
    "contact_hashes",
    "device_hash",
    "do_close_recruitment",
    "do_give_contact",
    "do_open_recruitment",
    "do_screen",
    "do_start_visit",
    "first_event",
    "public_path",
    "raise_flag",
    "screener_of",
    "source_rate_exceeded",
    "visit_rate_exceeded",
]

# Screener submissions are counted per hour: a household or clinic sharing one address still
# fits in the per-address limit, a form-filling script does not.
RATE_WINDOW_SECONDS = 3600
_SOURCE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _digest(purpose: str, value: str) -> str:
    """A keyed hash (SECRET_KEY): equal values match, the value itself is never stored."""
    key = hashlib.sha256(f"fibrosurvey.recruitment.{purpose}|{settings.SECRET_KEY}".encode())
    return hmac.new(key.digest(), value.encode(), hashlib.sha256).hexdigest()


def device_hash(device_cookie: str) -> str:
    return _digest("device", device_cookie)


def contact_hashes(email: str, phone: str) -> tuple[str, str]:
    """Keyed hashes of the normalised e-mail address and phone digits ("" when not given)."""
    email = email.strip().lower()
    digits = re.sub(r"\D", "", phone)
    return (
        _digest("email", email) if email else "",
        _digest("phone", digits) if digits else "",
    )


def public_path(link: OpenLink, source: str = "") -> str:
    """The landing page of the link (path only), for one source when given."""
    path = reverse("recruitment:landing", args=[link.slug])
    return f"{path}?src={source}" if source else path


def screener_of(link: OpenLink) -> Screener:
    return parse_screener(link.screener)


def first_event(study: Study) -> Event:
    event = study.events.order_by("order", "day_offset", "id").first()
    if event is None:
        raise ValueError(f"study {study.pk} has no event to invite open-link participants to")
    return event


@transaction.atomic
def do_open_recruitment(
    study: Study,
    *,
    actor: Any,
    slug: str,
    site: Site | None = None,
    sources: list[str] | None = None,
    screener: dict[str, Any] | None = None,
    min_page_seconds: int = 3,
) -> OpenLink:
    """Open (or reconfigure) the study's public link. The screener is checked first: a bad
    one raises ValueError naming the question/field and the allowed values; nothing changes."""
    config = screener if screener is not None else DEFAULT_SCREENER
    try:
        parse_screener(config)
    except ScreenerError as error:
        raise ValueError(f"screener: {error}") from error
    bad = [s for s in sources or [] if not _SOURCE_SLUG.match(s)]
    if bad:
        raise ValueError(f"sources: {bad} are not slugs (lowercase letters, digits, -)")
    if not re.match(r"^[a-z0-9][a-z0-9-]{2,63}$", slug) or slug == "go":
        raise ValueError(f"slug {slug!r}: 3-64 lowercase letters, digits and - (not 'go')")
    if OpenLink.objects.filter(slug=slug).exclude(study=study).exists():
        raise ValueError(f"slug {slug!r}: another study's link uses it; choose another")
    site = site or study.sites.order_by("code").first()
    if site is None or site.study_id != study.pk:
        raise ValueError("site: one of the study's sites")
    first_event(study)
    link = OpenLink.objects.filter(study=study).first()
    before = snapshot(link) if link else None
    link = link or OpenLink(study=study)
    link.slug, link.site, link.sources = slug, site, list(sources or [])
    link.screener, link.min_page_seconds, link.is_open = config, min_page_seconds, True
    link.save()
    record(
        "update" if before else "create",
        actor=actor,
        study=study,
        obj=link,
        before=before,
        after=snapshot(link),
    )
    return link


@transaction.atomic
def do_close_recruitment(link: OpenLink, *, actor: Any) -> OpenLink:
    """New visitors get the "study closed" page; participants already in carry on."""
    before = snapshot(link, ["is_open"])
    link.is_open = False
    link.save(update_fields=["is_open"])
    record(
        "update",
        actor=actor,
        study=link.study_id,
        obj=link,
        before=before,
        after={"is_open": False},
    )
    return link


def do_start_visit(link: OpenLink, *, source: str, device_cookie: str, language: str) -> Visit:
    """A new visitor on the landing page: counted, not audited (no research data yet)."""
    return Visit.objects.create(
        study=link.study,
        source=link.source_of(source),
        key=secrets.token_urlsafe(24),
        device_hash=device_hash(device_cookie),
        language=language,
    )


def _count(key: str, window: int) -> int:
    cache = caches["default"]
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window)
        return 1


def source_rate_exceeded(link: OpenLink, source: str, address: str) -> bool:
    """Counts one screener submission per client address and per source (shared cache);
    True once either passes the link's limit within the hour."""
    window = RATE_WINDOW_SECONDS
    address_key = _digest("rate-ip", f"{link.pk}|{address}")
    if _count(f"recruit:ip:{address_key}", window) > link.rate_limit_per_ip:
        return True  # not counted for the source: one busy address cannot close it to others
    per_source = _count(f"recruit:src:{link.pk}:{link.source_of(source)}", window)
    return per_source > link.rate_limit_per_source


def visit_rate_exceeded(link: OpenLink, address: str) -> bool:
    """Counts one new visit per client address: a script reloading the landing page must not
    fill the visits table (the allowance is ten times the screener limit)."""
    address_key = _digest("visit-ip", f"{link.pk}|{address}")
    count = _count(f"recruit:visit:{address_key}", RATE_WINDOW_SECONDS)
    return count > 10 * link.rate_limit_per_ip


def raise_flag(visit: Visit, reason: str, detail: str = "") -> bool:
    """Adds the flag once (a reason is recorded once per visit); True when it is new."""
    _, created = QualityFlag.objects.get_or_create(
        visit=visit, reason=reason, defaults={"detail": detail[:300]}
    )
    return created


@dataclass
class ScreenResult:
    visit: Visit
    problems: dict[str, str] = field(default_factory=dict)
    token: str = ""  # the survey link token of a newly enrolled participant (shown once)
    flags: list[str] = field(default_factory=list)


def quota_taken(link: OpenLink) -> dict[str, int]:
    """Enrolled visitors per quota cell (one query)."""
    enrolled = Visit.objects.filter(study=link.study, outcome=Visit.Outcome.ENROLLED)
    taken: dict[str, int] = {}
    for visit_cells in enrolled.values_list("quota_cells", flat=True):
        for cell in visit_cells:
            taken[cell] = taken.get(cell, 0) + 1
    return taken


def quota_fill(link: OpenLink) -> list[tuple[str, int, int]]:
    """(quota name, enrolled, limit) for each quota of the link's screener."""
    taken = quota_taken(link)
    return [(q.name, taken.get(q.name, 0), q.limit) for q in screener_of(link).quotas]


def _full_cells(link: OpenLink, screener: Screener, cells: list[str]) -> list[str]:
    limits = {quota.name: quota.limit for quota in screener.quotas}
    taken = quota_taken(link)
    return [cell for cell in cells if taken.get(cell, 0) >= limits.get(cell, 0)]


def do_screen(link: OpenLink, visit: Visit, data: Any, *, honeypot: str) -> ScreenResult:
    """Score the screener. Problems (a required answer missing, not a number) change nothing.
    Otherwise the visit records the answers and outcome; an eligible visitor in an open quota
    cell is enrolled at the link's site and gets a baseline link (language already chosen).
    Suspicious signs become quality flags; the visitor is never told."""
    if visit.screened_at is not None:
        return _screened_already(visit)
    screener = screener_of(link)
    answers, problems = screener.parse_answers(data)
    if problems:
        return ScreenResult(visit=visit, problems=problems)
    outcome = screener.screen(answers)
    now = timezone.now()
    with transaction.atomic():
        # One screening at a time per link: quota counts cannot be overtaken.
        OpenLink.objects.select_for_update().get(pk=link.pk)
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.screened_at is not None:
            return _screened_already(visit)
        visit.screened_at = now
        visit.screener_seconds = (now - visit.visited_at).total_seconds()
        visit.answers = answers
        visit.eligible = outcome.eligible
        visit.unmet_rules = list(outcome.unmet_rules)
        visit.quota_cells = screener.quota_cells(answers)
        token = ""
        if not outcome.eligible:
            visit.outcome = Visit.Outcome.INELIGIBLE
        elif _full_cells(link, screener, visit.quota_cells):
            visit.outcome = Visit.Outcome.QUOTA_FULL
        else:
            visit.outcome = Visit.Outcome.ENROLLED
            visit.participant, token = _enrol(link, visit)
        visit.save()
        flags = _screening_flags(link, visit, outcome, honeypot)
        record(
            "create",
            actor_label=f"open link visitor ({visit.source})",
            study=link.study_id,
            obj=visit,
            after=snapshot(visit, ["source", "answers", "eligible", "unmet_rules", "outcome"])
            | {"participant": visit.participant.study_code if visit.participant else None}
            | {"quality_flags": flags},
        )
    return ScreenResult(visit=visit, token=token, flags=flags)


def _screened_already(visit: Visit) -> ScreenResult:
    """The same screener sent twice (a double tap: the browser shows the second reply).
    Nothing is screened again; an enrolled visitor who has not consented yet gets a fresh
    link to the consent page (the first reply's link stops working, nobody saw it)."""
    participant = visit.participant
    if (
        participant is None
        or participant.consented_at is not None
        or participant.withdrawn_at is not None
    ):
        return ScreenResult(visit=visit)
    issued = do_issue_invitation(
        participant, first_event(visit.study), actor_label="open link", send=False
    )
    return ScreenResult(visit=visit, token=issued.token)


def _enrol(link: OpenLink, visit: Visit) -> tuple[Participant, str]:
    participant = do_enrol_participant(
        link.study, site=link.site, actor=None, language=visit.language
    )
    issued = do_issue_invitation(
        participant, first_event(link.study), actor_label="open link", send=False
    )
    do_choose_language(issued.invitation, language=visit.language)
    return participant, issued.token


def _screening_flags(
    link: OpenLink, visit: Visit, outcome: ScreenOutcome, honeypot: str
) -> list[str]:
    flags: list[str] = []

    def flag(reason: str, detail: str) -> None:
        if raise_flag(visit, reason, detail):
            flags.append(reason)

    if honeypot.strip():
        flag("honeypot", "the hidden field was filled in")
    seconds = visit.screener_seconds or 0.0
    if too_fast([seconds], link.min_page_seconds):
        flag("too_fast", f"screener answered in {seconds:.1f} s (minimum {link.min_page_seconds})")
    if outcome.impossible:
        flag("impossible_answer", "screener: " + ", ".join(outcome.impossible))
    if outcome.attention_failed:
        flag("attention_check", "screener attention question")
    earlier = (
        Visit.objects.filter(study=visit.study, device_hash=visit.device_hash)
        .exclude(pk=visit.pk)
        .filter(participant__isnull=False, visited_at__lte=visit.visited_at)
        .order_by("visited_at")
        .first()
    )
    if earlier is not None:
        flag("duplicate_device", f"same device as visit {earlier.pk}")
    return flags


def do_give_contact(invitation: Invitation, *, email: str, phone: str) -> tuple[str, list[Problem]]:
    """Store optional follow-up contact details (encrypted, apart from the answers) for an
    open-link participant. With an e-mail address, the survey link is e-mailed (a fresh
    token, returned); otherwise the token is "" and the current link stays valid."""
    email, phone = email.strip(), phone.strip()
    problems: list[Problem] = []
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(
                Problem(None, "email", email, "an e-mail address", "not an e-mail address")
            )
    if phone and (len(re.sub(r"\D", "", phone)) < 6 or len(phone) > 32):
        problems.append(
            Problem(
                None,
                "phone",
                phone,
                "6 to 32 characters, digits",
                "not a phone number",
            )
        )
    if problems or not (email or phone):
        return "", problems
    participant = invitation.participant
    visit = Visit.objects.filter(participant=participant).first()
    with transaction.atomic():
        contact, _ = ContactDetails.objects.get_or_create(participant=participant)
        contact.email, contact.phone = email, phone
        contact.save()
        detail = ""
        if visit is not None:
            visit.contact_hash, visit.phone_hash = contact_hashes(email, phone)
            visit.save(update_fields=["contact_hash", "phone_hash"])
            same = Q(contact_hash=visit.contact_hash) if visit.contact_hash else Q(pk__in=[])
            if visit.phone_hash:
                same |= Q(phone_hash=visit.phone_hash)
            earlier = (
                Visit.objects.filter(same, study=visit.study)
                .exclude(pk=visit.pk)
                .order_by("visited_at")
                .first()
            )
            if earlier is not None and raise_flag(
                visit, "duplicate_contact", f"same contact as visit {earlier.pk}"
            ):
                detail = "duplicate_contact"
        # Contact details never enter the audit trail; only that they exist.
        record(
            "update",
            actor_label=f"participant {participant.study_code}",
            study=participant.study_id,
            obj=participant,
            after={"contact_details": True, "email": bool(email), "phone": bool(phone)}
            | ({"quality_flags": [detail]} if detail else {}),
        )
    token = ""
    if email:
        token = do_issue_invitation(
            participant, invitation.event, actor_label="open link", send=True
        ).token
    return token, []
