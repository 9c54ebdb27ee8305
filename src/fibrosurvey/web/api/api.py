"""The REST API (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs.

Authentication: ``Authorization: Bearer <token>``; a token belongs to one user AND one study.
Every study endpoint applies the pages' rules through ``require_membership``: a study other
than the token's, or one the user is no longer a member of -> 404; a role without the
capability -> 403; site-limited members see their site only. Unknown or revoked token -> 401.
The FHIR submission endpoint is authenticated by the participant's invitation token instead.
Bodies over 5 MB -> 413; bad input -> 4xx with a message, never 500.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.responses import Status
from ninja.security import HttpBearer

from fibrosurvey.web.api.models import ApiToken, hash_api_token
from fibrosurvey.web.api.services import FhirSubmissionError, do_submit_fhir_response
from fibrosurvey.web.exports.services import FORMATS, ExportRequest, do_export
from fibrosurvey.web.labs.services import MAX_LAB_FILE_BYTES, LabImportError, do_import_labs
from fibrosurvey.web.ops.jsonsafe import JsonTooDeep, json_has_nul, loads_bounded
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.participants.services import find_invitation
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import filter_to_site, require_membership
from fibrosurvey.web.survey.models import Response

__all__ = ["MAX_BODY_BYTES", "api"]

MAX_BODY_BYTES = 5_000_000
_LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if not token or len(token) > 200:
            return None
        row = (
            ApiToken.objects.select_related("user", "study")
            .filter(token_hash=hash_api_token(token), revoked_at__isnull=True)
            .first()
        )
        if row is None or not row.user.is_active:
            return None
        now = timezone.now()
        if row.last_used is None or now - row.last_used > _LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=row.pk).update(last_used=now)
        return row


api = NinjaAPI(
    title="fibrosurvey API",
    version="1",
    description=(
        "Studies, participants (no contact data), responses, lab import, de-identified "
        "exports and FHIR QuestionnaireResponse submission. Authenticate with "
        "`Authorization: Bearer <token>`; create one on the study's API tokens page "
        "(/studies/<id>/api-tokens/) or with `manage.py api_token create`."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "Missing, unknown or revoked API token"}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg", "")}
        for e in exc.errors
    ]
    return api.create_response(
        request, {"detail": "Invalid request", "problems": problems}, status=422
    )


def _membership(request: HttpRequest, study_id: int, capability: str) -> Membership:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if token.study_id != study_id:
        raise Http404("No such study")
    return require_membership(token.user, study_id, capability)


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


# --- schemas ---------------------------------------------------------------------------------


class StudyOut(Schema):
    id: int
    name: str
    role: str
    site: str | None
    sites: list[str]
    events: list[str]


class ParticipantOut(Schema):
    participant_id: str
    site: str
    language: str
    enrolled_at: datetime
    consented: bool
    withdrawn: bool


class ResponseOut(Schema):
    id: int
    participant_id: str
    event: str
    instrument_id: str
    instrument_version: str
    status: str
    answers: dict[str, Any]
    scores: dict[str, Any] | None
    completed_at: datetime | None


class Page(Schema):
    count: int
    limit: int
    offset: int


class ParticipantPage(Page):
    items: list[ParticipantOut]


class ResponsePage(Page):
    items: list[ResponseOut]


class LabImportOut(Schema):
    samples_created: int
    results_created: int


class Problem(Schema):
    row: int | None = None
    field: str = ""
    path: str = ""
    value: str = ""
    allowed: str = ""
    message: str


class ErrorOut(Schema):
    detail: str
    problems: list[Problem] = []


class SubmissionOut(Schema):
    instrument_id: str
    status: str
    replayed: bool
    survey_complete: bool


def _study_out(membership: Membership) -> dict[str, Any]:
    study = membership.study
    return {
        "id": study.pk,
        "name": study.name,
        "role": membership.role,
        "site": membership.site.code if membership.site_id else None,
        "sites": [s.code for s in study.sites.all()],
        "events": [e.code for e in study.events.all()],
    }


def _limits(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= 1000:
        raise HttpError(400, "limit must be between 1 and 1000")
    if offset < 0:
        raise HttpError(400, "offset must be 0 or more")
    return limit, offset


# --- endpoints -------------------------------------------------------------------------------


@api.get("/studies", response=list[StudyOut], tags=["studies"])
def list_studies(request: HttpRequest) -> list[dict[str, Any]]:
    """The token's study, if the token's user is still a member of it."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    memberships = Membership.objects.filter(user=token.user, study=token.study).select_related(
        "study", "site"
    )
    return [_study_out(m) for m in memberships]


@api.get("/studies/{study_id}", response=StudyOut, tags=["studies"])
def get_study(request: HttpRequest, study_id: int) -> dict[str, Any]:
    return _study_out(_membership(request, study_id, "view_study"))


@api.get("/studies/{study_id}/participants", response=ParticipantPage, tags=["participants"])
def list_participants(
    request: HttpRequest,
    study_id: int,
    site: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Pseudonymous participants (never contact data); site-limited members see their site."""
    membership = _membership(request, study_id, "view_participants")
    limit, offset = _limits(limit, offset)
    queryset = filter_to_site(
        Participant.objects.filter(study_id=study_id).select_related("site"), membership
    )
    if site:
        queryset = queryset.filter(site__code=site)
    queryset = queryset.order_by("study_code")
    items = [
        {
            "participant_id": p.study_code,
            "site": p.site.code,
            "language": p.language,
            "enrolled_at": p.enrolled_at,
            "consented": p.consented_at is not None,
            "withdrawn": p.withdrawn_at is not None,
        }
        for p in queryset[offset : offset + limit]
    ]
    return {"count": queryset.count(), "limit": limit, "offset": offset, "items": items}


def _response_membership(request: HttpRequest, study_id: int) -> Membership:
    """Answers are research data: enrollers (their site) and analysts may read them."""
    membership = _membership(request, study_id, "view_study")
    if not (membership.can("view_participants") or membership.can("export_deidentified")):
        raise PermissionDenied(f"your role ({membership.role}) cannot read responses")
    return membership


def _response_out(r: Response) -> dict[str, Any]:
    return {
        "id": r.pk,
        "participant_id": r.participant.study_code,
        "event": r.event.code,
        "instrument_id": r.instrument_id,
        "instrument_version": r.instrument_version,
        "status": r.status,
        "answers": r.answers,
        "scores": r.scores,
        "completed_at": r.completed_at,
    }


class ResponseFilter(Schema):
    event: str | None = None
    instrument: str | None = None
    participant_id: str | None = None
    limit: int = 100
    offset: int = 0


def _responses(membership: Membership) -> Any:
    return filter_to_site(
        Response.objects.filter(participant__study=membership.study).select_related(
            "participant", "event"
        ),
        membership,
        "participant__site",
    )


@api.get("/studies/{study_id}/responses", response=ResponsePage, tags=["responses"])
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
    items = [_response_out(r) for r in queryset[offset : offset + limit]]
    return {"count": queryset.count(), "limit": limit, "offset": offset, "items": items}


@api.get("/studies/{study_id}/responses/{response_id}", response=ResponseOut, tags=["responses"])
def get_response(request: HttpRequest, study_id: int, response_id: int) -> dict[str, Any]:
    membership = _response_membership(request, study_id)
    found = _responses(membership).filter(pk=response_id).first()
    if found is None:
        raise Http404("No such response")
    return _response_out(found)


@api.post(
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
    membership = _membership(request, study_id, "import_labs")
    token: ApiToken = request.auth  # type: ignore[attr-defined]
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


@api.get("/studies/{study_id}/exports/{export_format}", tags=["exports"])
def export(request: HttpRequest, study_id: int, export_format: str) -> HttpResponse:
    """The de-identified dataset: ``csv`` (streamed), ``parquet``, ``dictionary``, ``fhir``."""
    membership = _membership(request, study_id, "export_deidentified")
    if export_format not in FORMATS:
        raise HttpError(404, f"unknown export format; allowed: {', '.join(FORMATS)}")
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return do_export(ExportRequest(membership, token.user, export_format, request))


@api.post(
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

    Idempotent: posting the same resource again stores nothing new (200, ``replayed``).
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
        result = do_submit_fhir_response(invitation, resource)
    except FhirSubmissionError as error:
        return Status(error.status, {"detail": str(error), "problems": error.problems})
    out = {
        "instrument_id": result.instrument_id,
        "status": result.status,
        "replayed": result.replayed,
        "survey_complete": result.survey_complete,
    }
    return Status(200 if result.replayed else 201, out)


@api.get("/limits", auth=None, tags=["meta"], include_in_schema=True)
def limits(request: HttpRequest) -> dict[str, int]:
    """Request size limits of this API."""
    return {"max_body_bytes": MAX_BODY_BYTES, "max_lab_file_bytes": MAX_LAB_FILE_BYTES}
