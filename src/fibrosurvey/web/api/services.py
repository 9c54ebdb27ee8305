"""API services: token issue/revoke (audited) and FHIR QuestionnaireResponse submission.

A FHIR submission goes through the SAME save path as the web survey
(``survey.services.do_save_page``, page by page of the instrument), so validation, scoring,
audit, PHQ-9 item 9 safety alerts, the write rule (``survey.rules``: current consent, not
completed) and replay protection are the survey's own.

Replays are recognised by the client's identifier of the submission (an ``Idempotency-Key``
header, else ``QuestionnaireResponse.identifier``): a retry with the same identifier stores
nothing new. Without one, every submission is new and the last one wins (answers A, B, A
store A); a resubmission of what is already stored changes nothing and says ``replayed``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from fibrosurvey.fhir import FhirMappingError, read_response_detail
from fibrosurvey.problems import Problem
from fibrosurvey.web.api.models import ApiToken
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.studies.models import Study
from fibrosurvey.web.survey.models import Response
from fibrosurvey.web.survey.rules import AnswersRefused
from fibrosurvey.web.survey.services import do_save_page, survey_pages

__all__ = [
    "FhirSubmissionError",
    "SubmissionResult",
    "do_issue_token",
    "do_revoke_token",
    "do_submit_fhir_response",
]


@transaction.atomic
def do_issue_token(
    *, user: User, study: Study, name: str = "", actor: User | None = None
) -> tuple[ApiToken, str]:
    row, token = ApiToken.issue(user=user, study=study, name=name)
    record(
        "create",
        actor=actor or user,
        study=study,
        obj=row,
        after={"user": user.get_username(), "name": row.name, "hint": row.hint},
    )
    return row, token


@transaction.atomic
def do_revoke_token(row: ApiToken, *, actor: User | None = None) -> ApiToken:
    before = {"revoked_at": None}
    row.revoke()
    record(
        "revoke",
        actor=actor,
        actor_label="" if actor else "management command",
        study=row.study_id,
        obj=row,
        before=before,
        after={"revoked_at": row.revoked_at.isoformat() if row.revoked_at else None},
    )
    return row


class FhirSubmissionError(ValueError):
    """The resource cannot be stored; ``status`` is the HTTP status, ``problems`` the details."""

    def __init__(self, status: int, message: str, problems: list[Problem] | None = None):
        self.status = status
        self.problems = problems or []
        super().__init__(message)


@dataclass(frozen=True)
class SubmissionResult:
    instrument_id: str
    status: str  # the stored response's status: in_progress | complete
    replayed: bool
    survey_complete: bool


def _text(value: Any) -> str | None:
    """An answer as the text a form would send (the survey's validator parses text)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


MAX_IDEMPOTENCY_KEY_LENGTH = 200


def _submission_key(resource: dict[str, Any], idempotency_key: str | None) -> str | None:
    """The client's identifier of this submission, or None when it gave none."""
    if idempotency_key is not None:
        key = idempotency_key.strip()
        if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise FhirSubmissionError(
                400,
                f"the Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
            )
        return f"header:{key}"
    identifier = resource.get("identifier")
    if identifier is None:
        return None
    value = identifier.get("value") if isinstance(identifier, dict) else None
    system = identifier.get("system", "") if isinstance(identifier, dict) else ""
    if (
        not isinstance(value, str)
        or not value.strip()
        or not isinstance(system, str)
        or len(value) + len(system) > MAX_IDEMPOTENCY_KEY_LENGTH
    ):
        raise FhirSubmissionError(
            400,
            "QuestionnaireResponse.identifier must be an Identifier with a text value",
            [
                Problem(
                    None,
                    "QuestionnaireResponse.identifier",
                    str(identifier)[:200],
                    f'{{"system": "<uri>", "value": "<text, at most '
                    f'{MAX_IDEMPOTENCY_KEY_LENGTH} characters>"}}',
                    "invalid identifier",
                )
            ],
        )
    return f"identifier:{system}|{value}"


def do_submit_fhir_response(
    invitation: Invitation, resource: Any, *, idempotency_key: str | None = None
) -> SubmissionResult:
    """Map a QuestionnaireResponse with the core and store it for ``invitation``'s event."""
    if not isinstance(resource, dict):
        raise FhirSubmissionError(400, "the body must be a FHIR QuestionnaireResponse object")
    key = _submission_key(resource, idempotency_key)
    try:
        reading = read_response_detail(resource)
    except FhirMappingError as error:
        raise FhirSubmissionError(400, str(error).splitlines()[0], error.problems) from None
    battery = invitation.event.instrument_ids()
    if reading.instrument_id not in battery:
        raise FhirSubmissionError(
            400,
            f"{reading.instrument_id} is not asked at {invitation.event.code}; "
            f"allowed: {', '.join(battery)}",
        )
    pages = survey_pages(invitation)
    own = [page for page in pages if page.instrument.id == reading.instrument_id]
    raw = {column: _text(value) for column, value in reading.row.items()}
    # Page nonces are scoped to (invitation, page) by the database, so the key alone names
    # the submission; without a key each submission is new.
    nonce = "fhir-" + (
        hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] if key else secrets.token_hex(20)
    )
    others_complete = (
        Response.objects.filter(
            participant=invitation.participant,
            event=invitation.event,
            status=Response.Status.COMPLETE,
            instrument_id__in=[i for i in battery if i != reading.instrument_id],
        ).count()
        == len(battery) - 1
    )
    replayed = True
    changed = False
    try:
        with transaction.atomic():
            for page in own:
                last = page is own[-1]
                moving_to = len(pages) if (last and others_complete) else invitation.current_page
                result = do_save_page(
                    invitation,
                    page,
                    {column: raw.get(column) for column in page.columns},
                    nonce=nonce,
                    moving_to=moving_to,
                    pages=pages,
                )
                if not result.saved:
                    problems = list(result.problems.values())
                    raise FhirSubmissionError(400, "the answers are not valid", problems)
                replayed = replayed and result.replayed
                changed = changed or result.changed
    except AnswersRefused as refused:
        raise FhirSubmissionError(409, str(refused)) from None
    stored = Response.objects.get(
        participant=invitation.participant,
        event=invitation.event,
        instrument_id=reading.instrument_id,
    )
    invitation.refresh_from_db(fields=["completed_at"])
    return SubmissionResult(
        reading.instrument_id,
        stored.status,
        replayed or not changed,
        invitation.completed_at is not None,
    )
