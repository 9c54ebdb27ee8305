"""TOTP two-factor authentication (django-otp) that a study owner can make mandatory.

A member of any study with ``require_two_factor`` must have a confirmed TOTP device and
must have entered a code in this session before any staff page; until then every staff
request is redirected to set one up (no device yet) or to enter a code.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from fibrosurvey.web.ops.models import StudySecurity

__all__ = ["TwoFactorRequiredMiddleware", "confirmed_device", "two_factor_required_for"]

# Paths a member may reach before the second factor: login/logout/2FA pages, static files,
# and the participant survey (no staff login there).
_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/s/")


def two_factor_required_for(user) -> bool:  # type: ignore[no-untyped-def]
    if not user.is_authenticated:
        return False
    return StudySecurity.objects.filter(
        require_two_factor=True, study__memberships__user=user
    ).exists()


def confirmed_device(user):  # type: ignore[no-untyped-def]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


class TwoFactorRequiredMiddleware:
    """After django_otp's OTPMiddleware: enforce the study policy on staff pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path_info.startswith(_EXEMPT_PREFIXES)
            and not user.is_verified()
            and two_factor_required_for(user)
        ):
            target = "ops:2fa_verify" if confirmed_device(user) else "ops:2fa_setup"
            response = redirect(target)
            response["Location"] += f"?next={request.path}"
            return response
        return self.get_response(request)
