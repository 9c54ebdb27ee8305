"""Enrolment (one at a time or by CSV, all-or-nothing) and survey invitations."""

from __future__ import annotations

import csv
import io
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from fibrosurvey.problems import Problem
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.ops.text import one_line
from fibrosurvey.web.participants.models import (
    ContactDetails,
    Invitation,
    Participant,
    WithdrawalKind,
    WithdrawalReason,
)
from fibrosurvey.web.participants.tokens import hash_token, new_token, token_matches
from fibrosurvey.web.studies.codes import CODE_RULE, code_problem
from fibrosurvey.web.studies.models import Event, Site, Study

__all__ = [
    "CSV_COLUMNS",
    "EnrolmentError",
    "EnrolmentOutcome",
    "IssuedInvitation",
    "StudyCodeTaken",
    "WithdrawnParticipantError",
    "do_enrol_csv",
    "do_enrol_participant",
    "do_import_enrolment_csv",
    "do_invite_all",
    "do_issue_invitation",
    "do_revoke_invitation",
    "do_view_contact",
    "do_withdraw_participant",
    "find_invitation",
    "new_study_code",
    "parse_enrolment_csv",
    "run_enrolment_job",
    "survey_url",
]

CSV_COLUMNS = ("study_code", "site", "language", "email", "phone", "name")
# No 0/O/1/I/L: study codes are read aloud and typed.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class EnrolmentError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"row {p.row} {p.column}: {p.message}" for p in problems[:5]))


class StudyCodeTaken(EnrolmentError):
    """Another enrolment stored the same study code first (nothing was stored)."""


def new_study_code(study: Study) -> str:
    while True:
        code = "FS-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
        if not Participant.objects.filter(study=study, study_code=code).exists():
            return code


def _check_row(
    study: Study,
    row_number: int,
    row: dict[str, str],
    sites: dict[str, Site],
    seen: set[str],
    taken: set[str],
) -> list[Problem]:
    problems: list[Problem] = []
    code = (row.get("study_code") or "").strip()
    if code:
        if code_problem(code):
            problems.append(
                Problem(row_number, "study_code", code, CODE_RULE, "invalid study code")
            )
        elif code in seen or code in taken:
            problems.append(
                Problem(
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
        problems.append(Problem(row_number, "site", site, ", ".join(sorted(sites)), "unknown site"))
    language = (row.get("language") or "").strip() or study.languages[0]
    if language not in study.languages:
        problems.append(
            Problem(
                row_number, "language", language, ", ".join(study.languages), "language not offered"
            )
        )
    email = (row.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(
                Problem(row_number, "email", email, "an e-mail address", "invalid e-mail address")
            )
    phone = (row.get("phone") or "").strip()
    if phone and not all(ch.isdigit() or ch in "+ -()" for ch in phone):
        problems.append(
            Problem(
                row_number, "phone", phone, "digits, spaces and + - ( )", "invalid phone number"
            )
        )
    return problems


def parse_enrolment_csv(
    study: Study,
    content: str,
    allowed_sites: set[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> list[dict[str, str]]:
    """Parse and validate a whole enrolment CSV; raise EnrolmentError listing every problem.

    ``allowed_sites`` restricts the site codes (a site-limited coordinator's own site).
    ``progress(phase, rows)`` is called every 1,000 rows (a background job's progress page).
    One query for the codes already used, none per row: 20,000 rows check in about a second.
    """
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if not header or "site" not in header or unknown:
        raise EnrolmentError(
            [
                Problem(
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
    problems: list[Problem] = []
    seen: set[str] = set()
    taken = set(Participant.objects.filter(study=study).values_list("study_code", flat=True))
    try:
        for row_number, raw in enumerate(reader, start=1):
            row = {key.strip(): (value or "") for key, value in raw.items() if key}
            problems.extend(_check_row(study, row_number, row, sites, seen, taken))
            rows.append(row)
            if progress is not None and row_number % 1000 == 0:
                progress("checking rows", row_number)
    except csv.Error as error:  # e.g. a field over csv.field_size_limit(): refuse, not 500
        raise EnrolmentError(
            [Problem(reader.line_num, "file", "", "a well-formed CSV file", str(error))]
        ) from None
    if not rows:
        problems.append(Problem(0, "rows", "", "at least one data row", "the file has no rows"))
    if problems:
        raise EnrolmentError(problems)
    return rows


def do_enrol_participant(
    study: Study,
    *,
    site: Site,
    actor: User | None,
    language: str = "",
    study_code: str = "",
    email: str = "",
    phone: str = "",
    name: str = "",
) -> Participant:
    """Enrol one participant (pseudonymous code; contact details stored encrypted). ``actor``
    is None when participants enrol themselves through the open recruitment link.

    Raises :class:`StudyCodeTaken` when another enrolment stores the same code between the
    caller's check and this insert (a generated code is drawn again instead).
    """
    if study_code and (problem := code_problem(study_code)):
        raise ValueError(f"study_code: {problem}")
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
                        Problem(
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


def _fresh_code(taken: set[str]) -> str:
    while True:
        code = "FS-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
        if code not in taken:
            taken.add(code)
            return code


def do_enrol_csv(
    study: Study,
    content: str,
    *,
    actor: User,
    allowed_sites: set[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
    job_id: int | None = None,
) -> list[Participant]:
    """Validate the whole file, then enrol every row in one transaction (all or nothing).

    Batched: the participants and their (encrypted) contact details go in with bulk_create,
    and ONE audit record summarises the import, written last so the audit chain's lock is
    held for milliseconds, not for the whole import (other studies' writes never wait)."""
    rows = parse_enrolment_csv(study, content, allowed_sites, progress)
    sites = {site.code: site for site in study.sites.all()}
    if progress is not None:
        progress("writing", len(rows))
    now = timezone.now()
    enrolled_by = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            taken = set(
                Participant.objects.filter(study=study).values_list("study_code", flat=True)
            )
            taken |= {(row.get("study_code") or "").strip() for row in rows}
            participants = [
                Participant(
                    study=study,
                    site=sites[row["site"].strip()],
                    study_code=(row.get("study_code") or "").strip() or _fresh_code(taken),
                    language=(row.get("language") or "").strip() or study.languages[0],
                    enrolled_at=now,
                    enrolled_by=enrolled_by,
                )
                for row in rows
            ]
            Participant.objects.bulk_create(participants, batch_size=1000)
            contacts = [
                ContactDetails(
                    participant=participant,
                    email=(row.get("email") or "").strip(),
                    phone=(row.get("phone") or "").strip(),
                    name=(row.get("name") or "").strip(),
                )
                for participant, row in zip(participants, rows, strict=True)
            ]
            ContactDetails.objects.bulk_create(contacts, batch_size=1000)
            if connection.vendor == "postgresql":
                # Run the deferred foreign-key checks of 40,000 rows now, not at COMMIT,
                # which comes after the audit record: the chain head stays locked until then.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # Contact details never enter the audit trail; only how many rows had some.
            record(
                "import",
                actor=actor,
                study=study,
                object_type="participants.participant",
                after={
                    "enrolled": len(participants),
                    "sites": dict(Counter(p.site.code for p in participants)),
                    "with_contact_details": sum(
                        1 for c in contacts if c.email or c.phone or c.name
                    ),
                    "participants": [[p.pk, p.study_code] for p in participants],
                    "job": job_id,
                },
            )
    except IntegrityError:
        # Another enrolment stored one of these codes after the file was checked: name the rows.
        codes = [(row.get("study_code") or "").strip() for row in rows]
        now_taken = set(
            Participant.objects.filter(study=study, study_code__in=codes).values_list(
                "study_code", flat=True
            )
        )
        raise EnrolmentError(
            [
                Problem(
                    number,
                    "study_code",
                    code,
                    "a code not yet used in this study",
                    "another enrolment took this code at the same moment; nobody was "
                    "enrolled: choose another code and upload the file again",
                )
                for number, code in enumerate(codes, start=1)
                if code in now_taken
            ]
            or [
                Problem(
                    0,
                    "study_code",
                    "",
                    "codes not already used in this study",
                    "another enrolment used one of these study codes at the same moment; "
                    "nobody was enrolled: upload the file again",
                )
            ]
        ) from None
    return participants


# Files up to this many rows are enrolled in the request; longer ones become a background
# job with a progress page (a 20,000-row file must not hit the web worker's timeout).
SYNC_ENROLMENT_MAX_ROWS = 1000


@dataclass(frozen=True)
class EnrolmentOutcome:
    participants: list[Participant]  # enrolled now (small files)
    job: Any = None  # or a queued fibrosurvey.web.jobs Job (large files)


def do_import_enrolment_csv(
    study: Study, content: str, *, actor: User, allowed_sites: set[str] | None = None
) -> EnrolmentOutcome:
    """Check the file now (EnrolmentError lists every problem); enrol a small file now and
    queue a large one as a job, which checks it again and enrols it all-or-nothing."""
    from fibrosurvey.web.jobs.models import Job
    from fibrosurvey.web.jobs.services import do_queue_job

    rows = parse_enrolment_csv(study, content, allowed_sites)
    if len(rows) <= SYNC_ENROLMENT_MAX_ROWS:
        return EnrolmentOutcome(
            do_enrol_csv(study, content, actor=actor, allowed_sites=allowed_sites)
        )
    job = do_queue_job(
        Job.Kind.ENROL_CSV,
        study=study,
        actor=actor,
        payload=content,
        params={"allowed_sites": sorted(allowed_sites) if allowed_sites is not None else None},
        total=len(rows),
    )
    return EnrolmentOutcome([], job)


def run_enrolment_job(job: Any, progress: Callable[[str, int], None]) -> dict[str, Any]:
    """The jobs app's handler for an enrolment CSV (see jobs.services.HANDLERS)."""
    from fibrosurvey.web.jobs.services import JobFailed

    allowed = job.params.get("allowed_sites")
    actor = job.created_by
    try:
        created = do_enrol_csv(
            job.study,
            job.payload,
            actor=actor,
            allowed_sites=set(allowed) if allowed is not None else None,
            progress=progress,
            job_id=job.pk,
        )
    except EnrolmentError as error:
        raise JobFailed(
            f"{len(error.problems)} problems found; nobody was enrolled.",
            [problem.as_dict() for problem in error.problems],
        ) from None
    return {"enrolled": len(created)}


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
    actor: User | None = None,
    actor_label: str = "",
    send: bool = True,
    reminder: bool = False,
) -> IssuedInvitation:
    """Create the participant x event invitation, or give it a fresh token (re-send,
    reminder); the old link stops working. E-mails the link when ``send`` and an address
    is on file. A withdrawn participant is refused (:class:`WithdrawnParticipantError`)."""
    token = new_token()
    now = timezone.now()
    expires = now + timedelta(days=settings.INVITATION_VALID_DAYS)
    with transaction.atomic():
        # Locked, so a withdrawal committing meanwhile cannot be followed by a fresh link.
        withdrawn = (
            Participant.objects.select_for_update()
            .filter(pk=participant.pk)
            .values_list("withdrawn_at", flat=True)
            .first()
        )
        if withdrawn is not None or participant.withdrawn_at is not None:
            raise WithdrawnParticipantError(participant)
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
def do_revoke_invitation(invitation: Invitation, *, actor: User) -> Invitation:
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


def do_view_contact(
    participant: Participant, *, actor: User, request: HttpRequest | None = None
) -> ContactDetails:
    """Decrypted contact details; every call writes a view_contact audit record."""
    contact, _ = ContactDetails.objects.get_or_create(participant=participant)
    record(
        "view_contact", actor=actor, study=participant.study_id, obj=participant, request=request
    )
    return contact


class WithdrawnParticipantError(ValueError):
    """An invitation for a withdrawn participant: refused, whoever asks."""

    def __init__(self, participant: Participant):
        self.participant = participant
        super().__init__(
            f"{participant.study_code} withdrew from the study; withdrawn participants are "
            "never invited again"
        )


def _delete_research_data(participant: Participant) -> dict[str, int]:
    """Delete the participant's research data; returns how many rows of each kind went.

    Consent records stay (they prove what was agreed, not research data), and so does the
    pseudonymous participant row, which carries the withdrawal for every output.
    """
    from fibrosurvey.web.exports.models import DesignVariables
    from fibrosurvey.web.labs.models import LabResult, LabSample
    from fibrosurvey.web.survey.models import Response, SafetyAlert

    counts = {
        "responses": Response.objects.filter(participant=participant).count(),
        "safety_alerts": SafetyAlert.objects.filter(participant=participant).count(),
        "lab_samples": LabSample.objects.filter(participant=participant).count(),
        "lab_results": LabResult.objects.filter(sample__participant=participant).count(),
        "design_variables": DesignVariables.objects.filter(participant=participant).count(),
    }
    SafetyAlert.objects.filter(participant=participant).delete()
    Response.objects.filter(participant=participant).delete()
    LabSample.objects.filter(participant=participant).delete()  # cascades to its results
    DesignVariables.objects.filter(participant=participant).delete()
    # Nobody may contact them again either: the contact details go with the data.
    ContactDetails.objects.filter(participant=participant).update(email="", phone="", name="")
    return counts


@transaction.atomic
def do_withdraw_participant(
    participant: Participant,
    *,
    actor: User,
    kind: str = WithdrawalKind.NO_FURTHER_CONTACT,
    reason: str = WithdrawalReason.PARTICIPANT_REQUEST,
    request: HttpRequest | None = None,
) -> Participant:
    """Withdraw a participant: every open link stops working and no invitation is issued
    again. ``kind`` "no_further_contact" keeps the data given so far; "withdraw_and_delete"
    also deletes their research data (responses, safety alerts, lab samples and results,
    design variables) and contact details, leaving counts in the audit record."""
    if kind not in WithdrawalKind.values:
        raise ValueError(f"unknown withdrawal kind {kind!r}; allowed: {', '.join(WithdrawalKind)}")
    if reason not in WithdrawalReason.values:
        raise ValueError(
            f"unknown withdrawal reason {reason!r}; allowed: {', '.join(WithdrawalReason)}"
        )
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.withdrawn_at is not None:
        return participant
    fields = ["withdrawn_at", "withdrawal_kind", "withdrawal_reason"]
    before = snapshot(participant, fields)
    participant.withdrawn_at = timezone.now()
    participant.withdrawal_kind = kind
    participant.withdrawal_reason = reason
    participant.save(update_fields=fields)
    participant.invitations.filter(revoked_at__isnull=True).update(
        revoked_at=participant.withdrawn_at
    )
    after = snapshot(participant, fields)
    if kind == WithdrawalKind.WITHDRAW_AND_DELETE:
        after["deleted"] = _delete_research_data(participant)
    record(
        "update",
        actor=actor,
        study=participant.study_id,
        obj=participant,
        before=before,
        after=after,
        request=request,
    )
    return participant


def do_invite_all(participants: Any, event: Event, *, actor: User) -> int:
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
