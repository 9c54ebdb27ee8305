"""API authentication: ``Authorization: Bearer <token>``; a token belongs to one user AND one
study. Unknown or revoked token -> 401 (``TokenAuth`` returns None); a token whose holder must
use two-factor login but has no confirmed device -> 403. ``request_membership`` applies the
pages' rules through ``studies.permissions`` (another study, or no longer a member -> 404; a
role without the capability -> 403)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from fibrosurvey.web.accounts.twofactor import two_factor_pending
from fibrosurvey.web.api.models import ApiToken
from fibrosurvey.web.crypto import hash_token
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import require_token_membership

__all__ = [
    "TokenAuth",
    "request_membership",
    "request_token",
]

_LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        if not token or len(token) > 200:
            return None
        row = (
            ApiToken.objects.select_related("user", "study")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True)
            .first()
        )
        if row is None or not row.user.is_active:
            return None
        if two_factor_pending(row.user):
            raise PermissionDenied(
                "a study you are a member of requires two-factor login: set up an "
                "authenticator at /accounts/2fa/setup/ before using API tokens"
            )
        now = timezone.now()
        if row.last_used is None or now - row.last_used > _LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=row.pk).update(last_used=now)
        return row


def request_token(request: HttpRequest) -> ApiToken:
    """The token ``TokenAuth`` accepted: django-ninja keeps it in ``request.auth``."""
    token = getattr(request, "auth", None)
    assert isinstance(token, ApiToken), "only endpoints behind TokenAuth read the token"
    return token


def request_membership(request: HttpRequest, study_id: int, capability: str) -> Membership:
    token = request_token(request)
    return require_token_membership(token, study_id, capability)
