"""Security middleware: response headers (CSP, no-store), request limits, link throttling.

Django 5.2 has no built-in Content-Security-Policy, so ``SecurityHeadersMiddleware`` sets
settings.CONTENT_SECURITY_POLICY (no inline script or style, no third-party origin) and, on
every response that did not choose its own caching, ``Cache-Control: no-store``: pages carry
personal data or secrets (survey answers, TOTP keys, exports). ``RequestLimitsMiddleware``
answers oversized bodies with 413, and over-nested JSON (whatever the content type) or a NUL
character (address, header, parameter, form field, JSON string) with 400, before any view
parses them. ``ParticipantLinkThrottleMiddleware`` limits requests per (client address, link
token) and unknown links per client address, counted in the shared cache.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from fibrosurvey.web.ops.jsonsafe import json_depth, json_has_nul

__all__ = [
    "ParticipantLinkThrottleMiddleware",
    "RequestLimitsMiddleware",
    "SecurityHeadersMiddleware",
]

# Downstream may stream (exports, static files): the base class, not HttpResponse.
Handler = Callable[[HttpRequest], HttpResponseBase]

logger = logging.getLogger(__name__)


class SecurityHeadersMiddleware:
    """Content-Security-Policy, no-store and friends on every response (unless a view set its
    own). Static files keep whitenoise's long-lived caching: they hold no personal data."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if not request.path.startswith(self.static_prefix):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _is_json(request: HttpRequest) -> bool:
    return request.content_type in {"application/json", "application/fhir+json"} or (
        request.content_type or ""
    ).endswith("+json")


class RequestLimitsMiddleware:
    """413 for a declared body over MAX_REQUEST_BODY_BYTES; 400 for JSON nested too deeply.

    Django itself refuses urlencoded bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (400), but file
    uploads are only spooled to disk; this caps every body by its Content-Length. JSON bodies
    are read here (to measure their depth) and handed on to the view, which applies its own
    documented limit (the API: 5 MB -> JSON 413).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
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
    body = _json_body(request, length) if _is_json(request) else bytes(request.body)
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


def _json_body(request: HttpRequest, length: int) -> bytes:
    """The whole body, kept for the view (``request.body`` and ``request.read()``).

    ``request.body`` refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE with Django's HTML 400,
    a limit meant for urlencoded forms; JSON bodies up to MAX_REQUEST_BODY_BYTES are read
    directly and cached exactly where ``HttpRequest.body`` caches them.
    """
    form_cap = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if form_cap is None or length <= form_cap:
        return bytes(request.body)
    body = bytes(request.read(length))
    request._body = body
    request._stream = BytesIO(body)
    return body


def _refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if _is_json(request) or request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


# Survey pages, the FHIR submission endpoint and the open-recruitment consent/contact pages
# (/r/go/<token>/) carry the participant's secret token.
_LINK_PATH = re.compile(r"^/(?:s|api/survey|r/go)/(?P<token>[^/]{1,300})(?:/|$)")


def client_ip(request: HttpRequest) -> str:
    """The peer address (behind a proxy, Django/gunicorn set REMOTE_ADDR from the proxy)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _bucket(*parts: str) -> str:
    # A hash: neither the token nor the address is written to the cache in clear.
    digest = hashlib.sha256("|".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"ops:link-rate:{digest}"


class ParticipantLinkThrottleMiddleware:
    """Two limits per LINK_RATE_WINDOW seconds on survey links (pages and FHIR submission):

    - LINK_RATE_LIMIT requests per (client address, token): one participant's pace;
    - LINK_MISS_LIMIT unknown links (answered 404) per client address: guessing tokens. Once
      reached, every link from that address waits, known or not, so the answer to a guess
      tells nothing.

    Counts live in the ``default`` cache, which must be shared by every server process (Redis,
    CACHE_URL): a per-process memory cache lets each worker count on its own.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        match = _LINK_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        window = int(settings.LINK_RATE_WINDOW)
        address = client_ip(request)
        misses_key = _bucket("misses", address)
        cache = caches["default"]
        try:
            guessing = int(cache.get(misses_key, 0)) >= int(settings.LINK_MISS_LIMIT)
            pair_count = 0 if guessing else _count(cache, _bucket(address, match["token"]), window)
        except Exception:
            # A participant must still reach the survey while the cache server is down: the
            # limits pause, the error is logged (and alerts whoever watches the logs).
            logger.exception("survey-link rate limits skipped: the cache is unavailable")
            return self.get_response(request)
        if guessing or pair_count > int(settings.LINK_RATE_LIMIT):
            return _too_many_requests(request, window)
        response = self.get_response(request)
        if response.status_code == 404:
            try:
                _count(cache, misses_key, window)
            except Exception:
                logger.exception("survey-link rate limits skipped: the cache is unavailable")
        return response


def _count(cache: Any, key: str, window: int) -> int:
    """Adds one to the bucket (created with the window as its lifetime) and returns it."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window)
        return 1


def _too_many_requests(request: HttpRequest, window: int) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": f"too many requests on survey links; retry in {window} seconds"},
            status=429,
        )
    else:
        body = render_to_string("ops/too_many_requests.html", {"window": window}, request)
        response = HttpResponse(body, status=429)
    response["Retry-After"] = str(window)
    response["Cache-Control"] = "no-store"
    return response
