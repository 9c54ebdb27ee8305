"""Staff account pages: security overview, two-factor set-up and verification."""

from __future__ import annotations

import base64
from typing import Any, Protocol, TypedDict

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from fibrosurvey.web.accounts.services import (
    do_confirm_device,
    do_record_failed_code,
    pending_device,
)
from fibrosurvey.web.accounts.twofactor import (
    confirmed_device,
    fresh_login_seconds,
    has_fresh_login,
    mark_fresh_login,
    qr_svg,
    two_factor_required_for,
)
from fibrosurvey.web.http import AuthenticatedHttpRequest
from fibrosurvey.web.studies.models import Membership


class _FormPage(Protocol):
    """What the mixin needs of the Django form view it is mixed into."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]: ...

    def render_to_response(
        self, context: dict[str, Any], **response_kwargs: Any
    ) -> HttpResponse: ...


class _UnprocessableOnError:
    """Django's auth views answer an invalid form with 200; ours say 422."""

    def form_invalid(self: _FormPage, form: forms.Form) -> HttpResponse:
        context = self.get_context_data(form=form)
        return self.render_to_response(context, status=422)


class PasswordChangeView(_UnprocessableOnError, auth_views.PasswordChangeView):
    pass


class PasswordResetConfirmView(_UnprocessableOnError, auth_views.PasswordResetConfirmView):
    pass


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("6-digit code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordAgainForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class _SetupContext(TypedDict):
    required: bool
    next: str


def _next(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return "/"
    return target


@login_required
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's own security: second factor, password, API tokens per study."""
    return render(
        request,
        "accounts/security.html",
        {
            "device": confirmed_device(request.user),
            "required": two_factor_required_for(request.user),
            "memberships": Membership.objects.filter(user=request.user).select_related("study"),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Enrol a TOTP device: password again unless the login is fresh, then key + one code."""
    if confirmed_device(request.user) is not None:
        return redirect("accounts:2fa_verify")
    context: _SetupContext = {
        "required": two_factor_required_for(request.user),
        "next": _next(request),
    }
    if not has_fresh_login(request):
        return _password_again(request, context)
    device = pending_device(request.user)
    form = TokenForm(request.POST if "token" in request.POST else None)
    if form.is_bound and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            do_confirm_device(device, request=request)
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("token", _("That code is not right; check the clock of your phone."))
    return render(
        request,
        "accounts/2fa_setup.html",
        {
            **context,
            "form": form,
            "key": base64.b32encode(device.bin_key).decode("ascii"),
            "config_url": device.config_url,
            "qr_code": qr_svg(device.config_url),
        },
        status=422 if form.errors else 200,
    )


def _password_again(request: AuthenticatedHttpRequest, context: _SetupContext) -> HttpResponse:
    form = PasswordAgainForm(request.POST if "password" in request.POST else None)
    if form.is_bound and form.is_valid():
        # authenticate(): a wrong password counts towards the lockout and is audited.
        user = authenticate(
            request,
            username=request.user.get_username(),
            password=form.cleaned_data["password"],
        )
        if user is not None and user.pk == request.user.pk:
            mark_fresh_login(request)
            response = redirect("accounts:2fa_setup")
            response["Location"] += "?" + urlencode({"next": context["next"]})
            return response
        form.add_error("password", _("That password is not right."))
    return render(
        request,
        "accounts/2fa_password.html",
        {**context, "form": form, "minutes": fresh_login_seconds() // 60},
        status=422 if form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    device = confirmed_device(request.user)
    if device is None:
        return redirect("accounts:2fa_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            otp_login(request, device)
            return redirect(_next(request))
        do_record_failed_code(request.user, request=request)
        form.add_error("token", _("That code is not right; check the clock of your phone."))
    return render(
        request,
        "accounts/2fa_verify.html",
        {"form": form, "next": _next(request)},
        status=422 if form.errors else 200,
    )
