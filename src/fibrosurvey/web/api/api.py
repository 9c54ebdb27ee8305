"""The REST API (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs.

Authentication: ``Authorization: Bearer <token>``; a token belongs to one user AND one study.
Every study endpoint applies the pages' rules through ``studies.permissions``: a study other
than the token's, or one the user is no longer a member of -> 404; a role without the
capability -> 403; site-limited members see their site only. Unknown or revoked token -> 401;
a token whose holder must use two-factor login but has no confirmed device -> 403.
The FHIR submission endpoint is authenticated by the participant's invitation token instead.
Bodies over 5 MB -> 413; bad input -> 4xx with a message, never 500.

Research data leave the API de-identified, like the exports, through the same
``exports.deidentify.deidentify``: shifted dates (never a real timestamp), ages over 89 as
90, each participant's withdrawal status and shifted date. Every read of responses or
participants is audited (action "export").
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.operation import Operation

from fibrosurvey.problems import Problem
from fibrosurvey.web.api.auth import TokenAuth
from fibrosurvey.web.api.routers import router

__all__ = [
    "api",
]


class _API(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """The operation ids published before the endpoints moved to ``api.routers``
        (``fibrosurvey_web_api_api_<function>``), so generated clients keep working."""
        return "fibrosurvey_web_api_api_" + operation.view_func.__name__


api = _API(
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
        Problem(
            None, ".".join(str(p) for p in e.get("loc", [])), "", "", e.get("msg", "")
        ).as_dict()
        for e in exc.errors
    ]
    return api.create_response(
        request, {"detail": "Invalid request", "problems": problems}, status=422
    )


api.add_router("", router)
