"""Enrolment (one at a time or by CSV, all-or-nothing) and survey invitations."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.ops.text import one_line
from fibrosurvey.web.participants.models import ContactDetails, Invitation, Participant
from fibrosurvey.web.participants.tokens import hash_token, new_token, token_matches
from fibrosurvey.web.studies.models import Event, Site, Study

__all__ = [
    "CSV_COLUMNS",
    "EnrolmentError",
    "IssuedInvitation",
    "RowProblem",
    "StudyCodeTaken",
    "do_enrol_csv",
    "do_enrol_participant",
    "do_invite_all",
    "do_issue_invitation",
    "do_revoke_invitation",
    "do_view_contact",
    "do_withdraw_participant",
    "find_invitation",
    "new_study_code",
    "parse_enrolment_csv",
    "survey_url",
]

CSV_COLUMNS = ("study_code", "site", "language", "email", "phone", "name")
# No 0/O/1/I/L: study codes are read aloud and typed.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based data row (the header is row 0)
    field: str
    value: str
    allowed: str
    message: str


class EnrolmentError(ValueError):
    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__("; ".join(f"row {p.row} {p.field}: {p.message}" for p in problems[:5]))


class StudyCodeTaken(EnrolmentError):
    """Another enrolment stored the same study code first (nothing was stored)."""


def new_study_code(study: Study) -> str:
    while True:
        code = "FS-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
        if not Participant.objects.filter(study=study, study_code=code).exists():
            return code


def _check_row(
    study: Study, row_number: int, row: dict[str, str], sites: dict[str, Site], seen: set[str]
) -> list[RowProblem]:
    problems: list[RowProblem] = []
    code = (row.get("study_code") or "").strip()
    if code:
        if len(code) > 32 or not all(ch.isalnum() or ch in "-_" for ch in code):
            problems.append(
                RowProblem(
                    row_number,
                    "study_code",
                    code,
                    "letters, digits, - and _, at most 32 characters",
                    "invalid study code",
                )
            )
        elif code in seen or Participant.objects.filter(study=study, study_code=code).exists():
            problems.append(
                RowProblem(
                    row_number,
                    "study_code",
                    code,
                    "a code not already used in this study",
                    "duplicate study code",
                )
            )
        seen.add(code)
    site = (row.get("site") or "").strip()
    if site not in sites:
        problems.append(
            RowProblem(row_number, "site", site, ", ".join(sorted(sites)), "unknown site")
        )
    language = (row.get("language") or "").strip() or study.languages[0]
    if language not in study.languages:
        problems.append(
            RowProblem(
                row_number, "language", language, ", ".join(study.languages), "language not offered"
            )
        )
    email = (row.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(
                RowProblem(
                    row_number, "email", email, "an e-mail address", "invalid e-mail address"
                )
            )
    phone = (row.get("phone") or "").strip()
    if phone and not all(ch.isdigit() or ch in "+ -()" for ch in phone):
        problems.append(
            RowProblem(
                row_number, "phone", phone, "digits, spaces and + - ( )", "invalid phone number"
            )
        )
    return problems


def parse_enrolment_csv(
    study: Study, content: str, allowed_sites: set[str] | None = None
) -> list[dict[str, str]]:
    """Parse and validate a whole enrolment CSV; raise EnrolmentError listing every problem.

    ``allowed_sites`` restricts the site codes (a site-limited coordinator's own site)."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if not header or "site" not in header or unknown:
        raise EnrolmentError(
            [
                RowProblem(
                    0,
                    "header",
                    ",".join(header),
                    ",".join(CSV_COLUMNS),
                    "the header must name the columns (site is required)",
                )
            ]
        )
    sites = {
        site.code: site
        for site in study.sites.all()
        if allowed_sites is None or site.code in allowed_sites
    }
    rows: list[dict[str, str]] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    try:
        for row_number, raw in enumerate(reader, start=1):
            row = {key.strip(): (value or "") for key, value in raw.items() if key}
            problems.extend(_check_row(study, row_number, row, sites, seen))
            rows.append(row)
    except csv.Error as error:  # e.g. a field over csv.field_size_limit(): refuse, not 500
        raise EnrolmentError(
            [RowProblem(reader.line_num, "file", "", "a well-formed CSV file", str(error))]
        ) from None
    if not rows:
        problems.append(RowProblem(0, "rows", "", "at least one data row", "the file has no rows"))
    if problems:
        raise EnrolmentError(problems)
    return rows


def do_enrol_participant(
    study: Study,
    *,
    site: Site,
    actor: Any,
    language: str = "",
    study_code: str = "",
    email: str = "",
    phone: str = "",
    name: str = "",
) -> Participant:
    """Enrol one participant (pseudonymous code; contact details stored encrypted).

    Raises :class:`StudyCodeTaken` when another enrolment stores the same code between the
    caller's check and this insert (a generated code is drawn again instead).
    """
    for _attempt in range(3):
        code = study_code or new_study_code(study)
        try:
            return _enrol(study, site, actor, language, code, email, phone, name)
        except IntegrityError:
            if not Participant.objects.filter(study=study, study_code=code).exists():
                raise
            if study_code:
                raise StudyCodeTaken(
                    [
                        RowProblem(
                            0,
                            "study_code",
                            code,
                            "a code not yet used in this study",
                            "another enrolment took this code at the same moment; choose another",
                        )
                    ]
                ) from None
    raise RuntimeError("three generated study codes in a row were taken")  # pragma: no cover


def _enrol(
    study: Study,
    site: Site,
    actor: Any,
    language: str,
    code: str,
    email: str,
    phone: str,
    name: str,
) -> Participant:
    with transaction.atomic():
        participant = Participant.objects.create(
            study=study,
            site=site,
            study_code=code,
            language=language or study.languages[0],
            enrolled_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        ContactDetails.objects.create(participant=participant, email=email, phone=phone, name=name)
        # Contact details never enter the audit trail; only that they exist.
        after = snapshot(participant) | {"contact_details": bool(email or phone or name)}
        record("create", actor=actor, study=study, obj=participant, after=after)
    return participant


def do_enrol_csv(
    study: Study, content: str, *, actor: Any, allowed_sites: set[str] | None = None
) -> list[Participant]:
    """Validate the whole file, then enrol every row in one transaction (all or nothing)."""
    rows = parse_enrolment_csv(study, content, allowed_sites)
    sites = {site.code: site for site in study.sites.all()}
    with transaction.atomic():
        participants = []
        for row_number, row in enumerate(rows, start=1):
            try:
                participants.append(
                    do_enrol_participant(
                        study,
                        site=sites[row["site"].strip()],
                        actor=actor,
                        language=(row.get("language") or "").strip(),
                        study_code=(row.get("study_code") or "").strip(),
                        email=(row.get("email") or "").strip(),
                        phone=(row.get("phone") or "").strip(),
                        name=(row.get("name") or "").strip(),
                    )
                )
            except StudyCodeTaken as taken:
                raise StudyCodeTaken(
                    [replace(problem, row=row_number) for problem in taken.problems]
                ) from None
        record(
            "import",
            actor=actor,
            study=study,
            object_type="participants.participant",
            after={"enrolled": len(participants)},
        )
    return participants


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once: put it in the e-mail / printout, never store it


def survey_url(token: str, base: str | None = None) -> str:
    """Absolute link (SITE_URL) by default; ``base=""`` gives the path only."""
    return (settings.SITE_URL if base is None else base) + reverse("survey:entry", args=[token])


def do_issue_invitation(
    participant: Participant,
    event: Event,
    *,
    actor: Any = None,
    actor_label: str = "",
    send: bool = True,
    reminder: bool = False,
) -> IssuedInvitation:
    """Create the participant x event invitation, or give it a fresh token (re-send,
    reminder); the old link stops working. E-mails the link when ``send`` and an address
    is on file."""
    token = new_token()
    now = timezone.now()
    expires = now + timedelta(days=settings.INVITATION_VALID_DAYS)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(participant=participant, event=event)
            .first()
        )
        if invitation is None:
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(
                        participant=participant,
                        event=event,
                        token_hash=hash_token(token),
                        expires_at=expires,
                    )
            except IntegrityError:  # created concurrently: rotate that one instead
                invitation = Invitation.objects.select_for_update().get(
                    participant=participant, event=event
                )
            else:
                record(
                    "invite",
                    actor=actor,
                    actor_label=actor_label,
                    study=participant.study_id,
                    obj=invitation,
                    after={"event": event.code, "expires_at": expires.isoformat()},
                )
        if invitation.token_hash != hash_token(token):
            invitation.token_hash = hash_token(token)
            invitation.expires_at = expires
            invitation.revoked_at = None
            if reminder:
                invitation.reminders_sent += 1
                invitation.last_reminder_at = now
            invitation.save()
            record(
                "invite",
                actor=actor,
                actor_label=actor_label,
                study=participant.study_id,
                obj=invitation,
                after={"event": event.code, "reissued": True, "reminder": reminder},
            )
        if send:
            email = participant.contact.email if hasattr(participant, "contact") else ""
            if email:
                _send_invitation_email(participant, event, token, email, reminder=reminder)
                invitation.sent_at = now
                invitation.save(update_fields=["sent_at"])
    return IssuedInvitation(invitation=invitation, token=token)


def _send_invitation_email(
    participant: Participant, event: Event, token: str, email: str, *, reminder: bool
) -> None:
    with translation.override(participant.language):
        context = {
            "study": participant.study,
            "event_label": event.label_in(participant.language),
            "url": survey_url(token),
            "reminder": reminder,
        }
        subject = one_line(render_to_string("participants/email/invitation_subject.txt", context))
        body = render_to_string("participants/email/invitation_body.txt", context)
    send_mail(subject, body, None, [email])


@transaction.atomic
def do_revoke_invitation(invitation: Invitation, *, actor: Any) -> Invitation:
    before = snapshot(invitation, ["revoked_at"])
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record(
        "revoke",
        actor=actor,
        study=invitation.participant.study_id,
        obj=invitation,
        before=before,
        after=snapshot(invitation, ["revoked_at"]),
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The active invitation for a presented token, else None (unknown, revoked, expired)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    try:
        # get(), not first(): token_hash is unique, and no ORDER BY to compile on every request.
        invitation = Invitation.objects.select_related(
            "participant", "participant__study", "event"
        ).get(token_hash=digest)
    except Invitation.DoesNotExist:
        invitation = None
    # The lookup is by hash (the token itself is never stored); the constant-time check
    # guards the final comparison.
    if invitation is None or not token_matches(token, invitation.token_hash):
        return None
    if not invitation.is_active or invitation.participant.withdrawn_at is not None:
        return None
    return invitation


def do_view_contact(participant: Participant, *, actor: Any, request: Any = None) -> ContactDetails:
    """Decrypted contact details; every call writes a view_contact audit record."""
    contact, _ = ContactDetails.objects.get_or_create(participant=participant)
    record(
        "view_contact", actor=actor, study=participant.study_id, obj=participant, request=request
    )
    return contact


@transaction.atomic
def do_withdraw_participant(
    participant: Participant, *, actor: Any, request: Any = None
) -> Participant:
    """Mark a participant withdrawn: every open link stops working; answers already given
    stay (what happens to them is the protocol's decision, recorded elsewhere)."""
    if participant.withdrawn_at is not None:
        return participant
    before = snapshot(participant, ["withdrawn_at"])
    participant.withdrawn_at = timezone.now()
    participant.save(update_fields=["withdrawn_at"])
    participant.invitations.filter(revoked_at__isnull=True).update(
        revoked_at=participant.withdrawn_at
    )
    record(
        "update",
        actor=actor,
        study=participant.study_id,
        obj=participant,
        before=before,
        after=snapshot(participant, ["withdrawn_at"]),
        request=request,
    )
    return participant


def do_invite_all(participants: Any, event: Event, *, actor: Any) -> int:
    """Invite (and e-mail) every participant in the queryset who has no invitation for the
    event yet, is not withdrawn and has an e-mail address on file. Returns how many."""
    pending = (
        participants.filter(withdrawn_at__isnull=True)
        .exclude(invitations__event=event)
        .select_related("study", "contact")
    )
    invited = 0
    for participant in pending:
        contact = getattr(participant, "contact", None)
        if contact is None or not contact.email:
            continue
        do_issue_invitation(participant, event, actor=actor)
        invited += 1
    return invited
