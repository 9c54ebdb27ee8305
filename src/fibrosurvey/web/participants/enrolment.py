"""Enrolment: one participant at a time or a whole CSV (all-or-nothing), study codes,
the CSV checks, the background job for large files, and viewing contact details."""

from __future__ import annotations

import csv
import io
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from fibrosurvey.problems import Problem
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.participants.models import (
    ContactDetails,
    Participant,
)
from fibrosurvey.web.studies.codes import CODE_RULE, code_problem
from fibrosurvey.web.studies.models import Site, Study

__all__ = [
    "CSV_COLUMNS",
    "SYNC_ENROLMENT_MAX_ROWS",
    "EnrolmentError",
    "EnrolmentOutcome",
    "StudyCodeTaken",
    "do_enrol_csv",
    "do_enrol_participant",
    "do_import_enrolment_csv",
    "do_view_contact",
    "new_study_code",
    "parse_enrolment_csv",
    "run_enrolment_job",
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


def do_view_contact(
    participant: Participant, *, actor: User, request: HttpRequest | None = None
) -> ContactDetails:
    """Decrypted contact details; every call writes a view_contact audit record."""
    contact, _ = ContactDetails.objects.get_or_create(participant=participant)
    record(
        "view_contact", actor=actor, study=participant.study_id, obj=participant, request=request
    )
    return contact
