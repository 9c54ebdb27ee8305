"""Operations endpoints."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def ping(request: HttpRequest) -> HttpResponse:
    """Liveness check: the full middleware stack, no database query."""
    return HttpResponse("ok", content_type="text/plain")
