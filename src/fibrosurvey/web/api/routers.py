"""The API endpoints: studies, participants, responses, lab import, exports, FHIR submission.

Research data leave the API de-identified, like the exports, through the same
``exports.deidentify.deidentify``: shifted dates (never a real timestamp), ages over 89 as
90, each participant's withdrawal status and shifted date. Every read of responses or
participants is audited (action "export"). Bodies over 5 MB -> 413."""

from __future__ import annotations

import datetime
from typing import Any

import polars as pl
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from ninja import Query, Router
from ninja.errors import HttpError
from ninja.responses import Status

from fibrosurvey.instruments import get_instrument
from fibrosurvey.web.api.auth import request_membership, request_token
from fibrosurvey.web.api.schemas import (
    ErrorOut,
    LabImportOut,
    ParticipantPage,
    ResponseFilter,
    ResponseOut,
    ResponsePage,
    StudyOut,
    SubmissionOut,
)
from fibrosurvey.web.api.services import FhirSubmissionError, do_submit_fhir_response
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.builder.active import export_instruments
from fibrosurvey.web.exports.deidentify import AGE_COLUMNS, date_offset_days, deidentify
from fibrosurvey.web.exports.models import study_secret
from fibrosurvey.web.exports.services import FORMATS, ExportRequest, do_export
from fibrosurvey.web.labs.csv_reading import MAX_LAB_FILE_BYTES, LabImportError
from fibrosurvey.web.labs.services import do_import_labs
from fibrosurvey.web.ops.jsonsafe import JsonTooDeep, json_has_nul, loads_bounded
from fibrosurvey.web.participants.invitations import find_invitation
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import filter_to_site
from fibrosurvey.web.survey.models import Response

__all__ = [
    "MAX_BODY_BYTES",
    "router",
]

MAX_BODY_BYTES = 5_000_000

router = Router()


def _body(request: HttpRequest) -> bytes:
    """The raw body, refusing more than 5 MB (read from the stream: no 2.5 MB Django cap)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(400, "invalid Content-Length") from None
    if declared > MAX_BODY_BYTES:
        raise HttpError(413, f"request body over {MAX_BODY_BYTES // 1_000_000} MB")
    data = request.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise HttpError(413, f"request body over {MAX_BODY_BYTES // 1_000_000} MB")
    return data


def _study_out(membership: Membership) -> dict[str, Any]:
    study = membership.study
    return {
        "id": study.pk,
        "name": study.name,
        "role": membership.role,
        "site": membership.site.code if membership.site is not None else None,
        "sites": [s.code for s in study.sites.all()],
        "events": [e.code for e in study.events.all()],
    }


def _limits(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= 1000:
        raise HttpError(400, "limit must be between 1 and 1000")
    if offset < 0:
        raise HttpError(400, "offset must be 0 or more")
    return limit, offset


@router.get("/studies", response=list[StudyOut], tags=["studies"])
def list_studies(request: HttpRequest) -> list[dict[str, Any]]:
    """The token's study, if the token's user is still a member of it."""
    token = request_token(request)
    memberships = Membership.objects.filter(user=token.user, study=token.study).select_related(
        "study", "site"
    )
    return [_study_out(m) for m in memberships]


@router.get("/studies/{study_id}", response=StudyOut, tags=["studies"])
def get_study(request: HttpRequest, study_id: int) -> dict[str, Any]:
    return _study_out(request_membership(request, study_id, "view_study"))


@router.get("/studies/{study_id}/participants", response=ParticipantPage, tags=["participants"])
def list_participants(
    request: HttpRequest,
    study_id: int,
    site: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Pseudonymous participants (never contact data); site-limited members see their site."""
    membership = request_membership(request, study_id, "view_participants")
    limit, offset = _limits(limit, offset)
    queryset = filter_to_site(
        Participant.objects.filter(study_id=study_id).select_related("site"), membership
    )
    if site:
        queryset = queryset.filter(site__code=site)
    queryset = queryset.order_by("study_code")
    page = list(queryset[offset : offset + limit])
    dates = _deidentified_dates(
        membership,
        [p.study_code for p in page],
        {"enrolled_date": [p.enrolled_at for p in page]},
        [p.withdrawn_at for p in page],
    )
    items = [
        {
            "participant_id": p.study_code,
            "site": p.site.code,
            "language": p.language,
            "enrolled_date": row["enrolled_date"],
            "consented": p.consented_at is not None,
            "withdrawn": p.withdrawn_at is not None,
            "withdrawn_date": row["withdrawn_date"],
        }
        for p, row in zip(page, dates, strict=True)
    ]
    _audit_read(request, membership, "participants", [p.study_code for p in page])
    return {"count": queryset.count(), "limit": limit, "offset": offset, "items": items}


def _deidentified_dates(
    membership: Membership,
    codes: list[str],
    columns: dict[str, list[Any]],
    withdrawn_at: list[Any],
) -> list[dict[str, Any]]:
    """Per row: ``columns`` (real values) and withdrawn_date, through the exports'
    de-identification (shifted dates, capped ages)."""
    frame = pl.DataFrame(
        {"participant_id": codes, **columns, "withdrawn_date": withdrawn_at},
        schema_overrides={
            "participant_id": pl.String,
            "withdrawn_date": pl.Datetime("us", "UTC"),
            **{c: pl.Datetime("us", "UTC") for c in columns if c.endswith("_date")},
            **{c: pl.Float64 for c in columns if c in AGE_COLUMNS},
        },
    )
    return deidentify(frame, study_secret(membership.study)).to_dicts()


def _audit_read(
    request: HttpRequest, membership: Membership, endpoint: str, participants: list[str]
) -> None:
    token = request_token(request)
    record(
        "export",
        actor=token.user,
        study=membership.study,
        object_type=f"api.{endpoint}",
        after={
            "kind": "deidentified",
            "endpoint": endpoint,
            "query": request.GET.urlencode()[:500],
            "rows": len(participants),
            "participants": sorted(set(participants)),
            "site": membership.site.code if membership.site is not None else None,
            "api_token": token.pk,
        },
        request=request,
    )


def _response_membership(request: HttpRequest, study_id: int) -> Membership:
    """Answers are research data: enrollers (their site) and analysts may read them."""
    return request_membership(request, study_id, "read_responses")


def _age(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text_and_date_items(
    membership: Membership, instrument_ids: set[str]
) -> tuple[set[str], set[str]]:
    """Columns of free-text and identifier items (never output), and of date items."""
    left_out: set[str] = set()
    dates: set[str] = set()
    with export_instruments(membership.study_id):
        for instrument_id in instrument_ids:
            for item in get_instrument(instrument_id).items:
                if item.kind == "text" or item.identifier:
                    left_out.add(item.column)
                elif item.kind == "date":
                    dates.add(item.column)
    return left_out, dates


def _responses_out(membership: Membership, responses: list[Response]) -> list[dict[str, Any]]:
    """The responses de-identified by the exports' function: the completion time becomes
    the shifted event date, ages over 89 become 90, the withdrawal is shown (shifted)."""
    ages = [c for c in AGE_COLUMNS if any(c in r.answers for r in responses)]
    rows = _deidentified_dates(
        membership,
        [r.participant.study_code for r in responses],
        {
            "event_date": [r.completed_at for r in responses],
            **{c: [_age(r.answers.get(c)) for r in responses] for c in ages},
        },
        [r.participant.withdrawn_at for r in responses],
    )
    left_out, item_dates = _text_and_date_items(membership, {r.instrument_id for r in responses})
    secret = study_secret(membership.study) if item_dates else ""
    out = []
    for r, row in zip(responses, rows, strict=True):
        # Free text never leaves (as in the exports); date items move by the participant's
        # offset, like every other date.
        answers = {c: v for c, v in r.answers.items() if c not in left_out}
        for column in item_dates & answers.keys():
            try:
                day = datetime.date.fromisoformat(str(answers[column]))
            except ValueError:  # unreadable as a date: left out rather than shown raw
                answers[column] = None
                continue
            offset = date_offset_days(secret, r.participant.study_code)
            answers[column] = (day + datetime.timedelta(days=offset)).isoformat()
        for column in ages:
            if column in answers:  # unreadable as a number: left out rather than shown raw
                value = row[column]
                answers[column] = (
                    None if value is None else int(value) if value.is_integer() else value
                )
        out.append(
            {
                "id": r.pk,
                "participant_id": r.participant.study_code,
                "event": r.event.code,
                "instrument_id": r.instrument_id,
                "instrument_version": r.instrument_version,
                "status": r.status,
                "answers": answers,
                "scores": r.scores,
                "event_date": row["event_date"],
                "withdrawn": r.participant.withdrawn_at is not None,
                "withdrawn_date": row["withdrawn_date"],
            }
        )
    return out


def _responses(membership: Membership) -> QuerySet[Response]:
    return filter_to_site(
        Response.objects.filter(participant__study=membership.study).select_related(
            "participant", "event"
        ),
        membership,
        "participant__site",
    )


@router.get("/studies/{study_id}/responses", response=ResponsePage, tags=["responses"])
def list_responses(
    request: HttpRequest, study_id: int, filters: Query[ResponseFilter]
) -> dict[str, Any]:
    membership = _response_membership(request, study_id)
    limit, offset = _limits(filters.limit, filters.offset)
    queryset = _responses(membership)
    if filters.event:
        queryset = queryset.filter(event__code=filters.event)
    if filters.instrument:
        queryset = queryset.filter(instrument_id=filters.instrument)
    if filters.participant_id:
        queryset = queryset.filter(participant__study_code=filters.participant_id)
    queryset = queryset.order_by("participant__study_code", "event__order", "id")
    page = list(queryset[offset : offset + limit])
    items = _responses_out(membership, page)
    _audit_read(request, membership, "responses", [r.participant.study_code for r in page])
    return {"count": queryset.count(), "limit": limit, "offset": offset, "items": items}


@router.get("/studies/{study_id}/responses/{response_id}", response=ResponseOut, tags=["responses"])
def get_response(request: HttpRequest, study_id: int, response_id: int) -> dict[str, Any]:
    membership = _response_membership(request, study_id)
    found = _responses(membership).filter(pk=response_id).first()
    if found is None:
        raise Http404("No such response")
    [item] = _responses_out(membership, [found])
    _audit_read(request, membership, "responses", [found.participant.study_code])
    return item


@router.post(
    "/studies/{study_id}/labs",
    response={201: LabImportOut, 413: ErrorOut, 422: ErrorOut},
    tags=["labs"],
    openapi_extra={
        "requestBody": {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "required": True,
            "description": "The lab results CSV (same columns and all-or-nothing rules as "
            "the import page).",
        }
    },
)
def import_labs(request: HttpRequest, study_id: int) -> Status[dict[str, Any]]:
    membership = request_membership(request, study_id, "import_labs")
    token = request_token(request)
    content = _body(request)
    try:
        result = do_import_labs(
            membership.study,
            content,
            actor=token.user,
            membership=membership,
            file_name=request.headers.get("X-File-Name", "api upload")[:255],
            request=request,
        )
    except LabImportError as error:
        return Status(
            422,
            {
                "detail": f"{len(error.problems)} problem(s); nothing was imported",
                "problems": [p.as_dict() for p in error.problems],
            },
        )
    return Status(
        201,
        {"samples_created": result.samples_created, "results_created": result.results_created},
    )


@router.get("/studies/{study_id}/exports/{export_format}", tags=["exports"])
def export(request: HttpRequest, study_id: int, export_format: str) -> HttpResponseBase:
    """The de-identified dataset: ``csv`` (streamed), ``parquet``, ``dictionary``, ``fhir``."""
    membership = request_membership(request, study_id, "export_deidentified")
    if export_format not in FORMATS:
        raise HttpError(404, f"unknown export format; allowed: {', '.join(FORMATS)}")
    token = request_token(request)
    return do_export(ExportRequest(membership, token.user, export_format, request))


@router.post(
    "/survey/{token}/fhir",
    auth=None,
    response={
        200: SubmissionOut,
        201: SubmissionOut,
        400: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
    },
    tags=["survey"],
    openapi_extra={
        "requestBody": {
            "content": {"application/fhir+json": {"schema": {"type": "object"}}},
            "required": True,
            "description": "A FHIR R4 QuestionnaireResponse for one instrument of the event.",
        }
    },
)
def submit_fhir(request: HttpRequest, token: str) -> Status[dict[str, Any]]:
    """Store a QuestionnaireResponse for the invitation whose secret link token is ``token``.

    A retry with the same ``Idempotency-Key`` header (or ``QuestionnaireResponse.identifier``)
    stores nothing new (200, ``replayed``); otherwise the last submission wins. 409 when the
    participant has not accepted the current consent or the survey is complete.
    """
    invitation = find_invitation(token)
    if invitation is None:
        raise HttpError(404, "unknown, expired or revoked survey link")
    body = _body(request)
    if json_has_nul(body):  # PostgreSQL cannot store it: refuse, whatever the Content-Type
        raise HttpError(400, "the body holds a NUL character (\\u0000), which no field accepts")
    try:
        # Bounded whatever the Content-Type: deep JSON sent as text/plain is a 400 too.
        resource = loads_bounded(body or b"null")
    except JsonTooDeep as error:
        raise HttpError(400, str(error)) from None
    except ValueError as error:  # UnicodeDecodeError, json.JSONDecodeError
        raise HttpError(400, f"the body is not JSON: {error}") from None
    try:
        result = do_submit_fhir_response(
            invitation, resource, idempotency_key=request.headers.get("Idempotency-Key")
        )
    except FhirSubmissionError as error:
        problems = [p.as_dict() for p in error.problems]
        return Status(error.status, {"detail": str(error), "problems": problems})
    out = {
        "instrument_id": result.instrument_id,
        "status": result.status,
        "replayed": result.replayed,
        "survey_complete": result.survey_complete,
    }
    return Status(200 if result.replayed else 201, out)


@router.get("/limits", auth=None, tags=["meta"], include_in_schema=True)
def limits(request: HttpRequest) -> dict[str, int]:
    """Request size limits of this API."""
    return {"max_body_bytes": MAX_BODY_BYTES, "max_lab_file_bytes": MAX_LAB_FILE_BYTES}
