"""TOTP two-factor authentication (django-otp) that a study owner can make mandatory.

A member of any study with ``require_two_factor`` must have a confirmed TOTP device and
must have entered a code in this session before any staff page; until then every staff
request is redirected to set one up (no device yet) or to enter a code. Their API tokens
are refused (403) until they have a confirmed device.

Enrolling a first device needs a fresh login: a password entered within the last
``TWO_FACTOR_FRESH_LOGIN_MINUTES`` minutes (at login, or again on the set-up page), so a
session left open on a shared computer cannot bind somebody else's authenticator.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import segno
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from fibrosurvey.web.ops.models import StudySecurity

__all__ = [
    "TwoFactorRequiredMiddleware",
    "confirmed_device",
    "has_fresh_login",
    "mark_fresh_login",
    "qr_svg",
    "two_factor_pending",
    "two_factor_required_for",
]

# Paths a member may reach before the second factor: login/logout/2FA/password pages,
# static files, and the participant survey (no staff login there).
_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/s/")
_AUTHENTICATED_AT = "accounts.password_entered_at"


def two_factor_required_for(user: User | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return StudySecurity.objects.filter(
        require_two_factor=True, study__memberships__user=user
    ).exists()


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def two_factor_pending(user: User) -> bool:
    """A study requires a second factor of ``user`` and they have not confirmed a device."""
    return two_factor_required_for(user) and confirmed_device(user) is None


def fresh_login_seconds() -> int:
    return 60 * int(getattr(settings, "TWO_FACTOR_FRESH_LOGIN_MINUTES", 10))


def mark_fresh_login(request: HttpRequest) -> None:
    """The user has just typed their password (at login or on the set-up page)."""
    request.session[_AUTHENTICATED_AT] = int(time.time())


def has_fresh_login(request: HttpRequest) -> bool:
    entered_at = request.session.get(_AUTHENTICATED_AT)
    if not isinstance(entered_at, int):
        return False
    return 0 <= time.time() - entered_at <= fresh_login_seconds()


def qr_svg(config_url: str) -> SafeString:
    """The otpauth:// URL as an inline SVG QR code: no script, no style attribute (CSP)."""
    svg = segno.make(config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    # segno escapes nothing user-controlled here: the URL is encoded as modules, not text.
    return mark_safe(svg)


class TwoFactorRequiredMiddleware:
    """After django_otp's OTPMiddleware: enforce the study policy on staff pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path_info.startswith(_EXEMPT_PREFIXES)
            and not user.is_verified()
            and two_factor_required_for(user)
        ):
            target = "accounts:2fa_verify" if confirmed_device(user) else "accounts:2fa_setup"
            response = redirect(target)
            response["Location"] += f"?next={request.path}"
            return response
        return self.get_response(request)
