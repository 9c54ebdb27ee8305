"""API services: token issue/revoke (audited) and FHIR QuestionnaireResponse submission.

A FHIR submission goes through the SAME save path as the web survey
(``survey.services.do_save_page``, page by page of the instrument), so validation, scoring,
audit, PHQ-9 item 9 safety alerts and replay protection are the survey's own. The page
nonces are derived from the invitation and the mapped answers: posting the same resource
twice is recognised as a replay and stores one response.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from fibrosurvey.fhir import FhirMappingError, read_response_detail
from fibrosurvey.web.api.models import ApiToken
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.studies.models import Study
from fibrosurvey.web.survey.models import Response
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
    *, user: Any, study: Study, name: str = "", actor: Any = None
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
def do_revoke_token(row: ApiToken, *, actor: Any = None) -> ApiToken:
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

    def __init__(self, status: int, message: str, problems: list[dict[str, str]] | None = None):
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


def do_submit_fhir_response(invitation: Invitation, resource: Any) -> SubmissionResult:
    """Map a QuestionnaireResponse with the core and store it for ``invitation``'s event."""
    if not isinstance(resource, dict):
        raise FhirSubmissionError(400, "the body must be a FHIR QuestionnaireResponse object")
    try:
        reading = read_response_detail(resource)
    except FhirMappingError as error:
        problems = [
            {"path": p.path, "value": p.value, "allowed": p.allowed, "message": p.message}
            for p in error.problems
        ]
        raise FhirSubmissionError(400, str(error).splitlines()[0], problems) from None
    battery = invitation.event.instrument_ids()
    if reading.instrument_id not in battery:
        raise FhirSubmissionError(
            400,
            f"{reading.instrument_id} is not asked at {invitation.event.code}; "
            f"allowed: {', '.join(battery)}",
        )
    if invitation.participant.consented_at is None:
        raise FhirSubmissionError(
            409, "the participant has not consented yet; open the survey link first"
        )
    pages = survey_pages(invitation)
    own = [page for page in pages if page.instrument.id == reading.instrument_id]
    raw = {column: _text(value) for column, value in reading.row.items()}
    fingerprint = hashlib.sha256(
        json.dumps(raw, sort_keys=True).encode("utf-8") + invitation.token_hash.encode()
    ).hexdigest()
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
    finished = False
    with transaction.atomic():
        for page in own:
            last = page is own[-1]
            moving_to = len(pages) if (last and others_complete) else invitation.current_page
            result = do_save_page(
                invitation,
                page,
                {column: raw.get(column) for column in page.columns},
                nonce=f"fhir-{fingerprint[:40]}-{page.index}",
                moving_to=moving_to,
                pages=pages,
            )
            if not result.saved:
                problems = [
                    {
                        "path": p.column,
                        "value": str(p.value),
                        "allowed": p.allowed,
                        "message": p.message,
                    }
                    for p in result.problems.values()
                ]
                raise FhirSubmissionError(400, "the answers are not valid", problems)
            replayed = replayed and result.replayed
            finished = finished or result.completed_survey
    stored = Response.objects.get(
        participant=invitation.participant,
        event=invitation.event,
        instrument_id=reading.instrument_id,
    )
    invitation.refresh_from_db(fields=["completed_at"])
    return SubmissionResult(
        reading.instrument_id, stored.status, replayed, invitation.completed_at is not None
    )
