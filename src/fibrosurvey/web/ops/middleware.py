"""Security middleware: response headers (CSP), request limits, survey-link throttling.

Django 5.2 has no built-in Content-Security-Policy, so ``SecurityHeadersMiddleware`` sets one
that allows no inline script or style and no third-party origin. ``RequestLimitsMiddleware``
answers oversized bodies with 413, and over-nested JSON (whatever the content type) or a NUL
character (address, header, parameter, form field, JSON string) with 400, before any view
parses them.
``ParticipantLinkThrottleMiddleware`` limits requests per (client IP, link token) bucket.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from fibrosurvey.web.ops.jsonsafe import json_depth, json_has_nul

__all__ = [
    "DEFAULT_CSP",
    "ParticipantLinkThrottleMiddleware",
    "RequestLimitsMiddleware",
    "SecurityHeadersMiddleware",
]

DEFAULT_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # The favicon is an empty data: URL (base.html) so browsers never fetch /favicon.ico.
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

Handler = Callable[[HttpRequest], HttpResponse]


class SecurityHeadersMiddleware:
    """Content-Security-Policy and friends on every response (unless a view set its own)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def _is_json(request: HttpRequest) -> bool:
    return request.content_type in {"application/json", "application/fhir+json"} or (
        request.content_type or ""
    ).endswith("+json")


class RequestLimitsMiddleware:
    """413 for a declared body over MAX_REQUEST_BODY_BYTES; 400 for JSON nested too deeply.

    Django itself refuses urlencoded bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (400), but file
    uploads are only spooled to disk; this caps every body by its Content-Length.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(getattr(settings, "MAX_REQUEST_BODY_BYTES", 10 * 1024 * 1024))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refusal(request, 400, _("The Content-Length header is not a number."))
        if length > limit:
            return _refusal(
                request,
                413,
                _("The request is larger than %(mb)d MB; send a smaller file.")
                % {"mb": limit // (1024 * 1024)},
            )
        refusal = _hostile_input(request, length)
        if refusal is not None:
            return refusal
        return self.get_response(request)


_FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


def _nul_refusal(request: HttpRequest, where: str) -> HttpResponse:
    message = _("%(where)s holds a NUL character (\\x00), which no field accepts; remove it.") % {
        "where": where
    }
    return _refusal(request, 400, message)


def _field_with_nul(query: QueryDict) -> str | None:
    for key, values in query.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "\\x00")[:100]
    return None


def _hostile_input(request: HttpRequest, length: int) -> HttpResponse | None:
    """400 for a NUL character anywhere a view could read text, or JSON nested too deeply.

    One check here instead of one per view: PostgreSQL text cannot hold NUL (a 500 in every
    filter, note and name), and a view that parses a body as JSON whatever its content type
    must never see one nested deeper than MAX_JSON_DEPTH. Linear in the body size.
    """
    if "\x00" in request.path:
        return _nul_refusal(request, _("The address"))
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            header = key.removeprefix("HTTP_").replace("_", "-").title()
            return _nul_refusal(request, _("The header %(name)s") % {"name": header})
    if (field := _field_with_nul(request.GET)) is not None:
        return _nul_refusal(request, _("The parameter %(name)r") % {"name": field})
    if request.method not in {"POST", "PUT", "PATCH"} or not length:
        return None
    if request.content_type in _FORM_TYPES:
        # Uploaded files may hold any byte; the importers refuse NUL naming row and column.
        if (field := _field_with_nul(request.POST)) is not None:
            return _nul_refusal(request, _("The field %(name)r") % {"name": field})
        return None
    cap = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if not _is_json(request) and cap is not None and length > cap:
        # A raw upload over Django's in-memory cap (the API reads up to 5 MB itself): its
        # view bounds what it parses (FHIR: loads_bounded; labs: the CSV importer).
        return None
    body = request.body  # over the cap (JSON): RequestDataTooBig, a 400
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        if _is_json(request):
            return _refusal(request, 400, _("The JSON body is not UTF-8 text."))
        return None
    max_depth = int(getattr(settings, "MAX_JSON_DEPTH", 64))
    if json_depth(body, max_depth) > max_depth:
        return _refusal(
            request, 400, _("The JSON body is nested deeper than %(n)d levels.") % {"n": max_depth}
        )
    if json_has_nul(body):
        return _nul_refusal(request, _("The body"))
    return None


def _refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if _is_json(request) or request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


_LINK_PATH = re.compile(r"^/s/(?P<token>[^/]{1,300})/")


def client_ip(request: HttpRequest) -> str:
    """The peer address (behind a proxy, Django/gunicorn set REMOTE_ADDR from the proxy)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class ParticipantLinkThrottleMiddleware:
    """At most LINK_RATE_LIMIT requests per LINK_RATE_WINDOW seconds per (IP, token).

    Counts live in the ``default`` cache (use a shared cache such as the database or Redis
    with several server processes; the per-process memory cache limits per worker). The
    bucket key is a hash, so neither the token nor the IP is written to the cache in clear.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = _LINK_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        limit = int(getattr(settings, "LINK_RATE_LIMIT", 60))
        window = int(getattr(settings, "LINK_RATE_WINDOW", 60))
        bucket = hashlib.sha256(
            f"{client_ip(request)}|{match['token']}".encode("utf-8", "surrogatepass")
        ).hexdigest()
        key = f"ops:link-rate:{bucket}"
        cache = caches["default"]
        if cache.add(key, 1, timeout=window):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=window)
                count = 1
        if count > limit:
            body = render_to_string("ops/too_many_requests.html", {"window": window}, request)
            response = HttpResponse(body, status=429)
            response["Retry-After"] = str(window)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
