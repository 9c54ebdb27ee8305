"""The 500 handler: a database that is briefly unreachable (restart, failover) is 503, not 500.

Clients and proxies treat 503 + ``Retry-After`` as "try again shortly", which is the truth: no
answer was half-stored (each page is one transaction) and a retry with the same form succeeds
once the database is back. Every other uncaught error keeps Django's own 500 page.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

__all__ = ["RETRY_AFTER_SECONDS", "server_error"]

RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if not isinstance(error, OperationalError | InterfaceError):
        return defaults.server_error(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": "the database is briefly unavailable; retry in a few seconds"}, status=503
        )
    else:
        # No request context: the context processors could touch the database again.
        body = render_to_string("ops/unavailable.html", {"seconds": RETRY_AFTER_SECONDS})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
