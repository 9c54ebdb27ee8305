"""Two-factor setup/verification for staff, and the study owner's 2FA policy switch."""

from __future__ import annotations

import base64

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from fibrosurvey.web.audit.services import record
from fibrosurvey.web.ops.models import StudySecurity
from fibrosurvey.web.ops.twofactor import confirmed_device
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.permissions import require_membership


def ping(request: HttpRequest) -> HttpResponse:
    """Liveness check: the full middleware stack, no database query."""
    return HttpResponse("ok", content_type="text/plain")


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("6-digit code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return "/"
    return target


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Create (once) an unconfirmed TOTP device, show its key, confirm it with one code."""
    if confirmed_device(request.user) is not None:
        return redirect("ops:2fa_verify")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record(
                    "update",
                    actor=request.user,
                    obj=request.user,
                    object_type="auth.user",
                    after={"two_factor": "totp device confirmed"},
                    request=request,
                )
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("token", _("That code is not right; check the clock of your phone."))
    key = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "ops/2fa_setup.html",
        {"form": form, "key": key, "config_url": device.config_url, "next": _next(request)},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    device = confirmed_device(request.user)
    if device is None:
        return redirect("ops:2fa_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            otp_login(request, device)
            return redirect(_next(request))
        record(
            "login_failed",
            actor=request.user,
            obj=request.user,
            object_type="auth.user",
            after={"two_factor": "wrong code"},
            request=request,
        )
        form.add_error("token", _("That code is not right; check the clock of your phone."))
    return render(
        request,
        "ops/2fa_verify.html",
        {"form": form, "next": _next(request)},
        status=422 if form.errors else 200,
    )


class PolicyForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=gettext_lazy("Every member must use two-factor authentication"), required=False
    )


@login_required
@require_http_methods(["GET", "POST"])
def study_security(request: HttpRequest, study_id: int) -> HttpResponse:
    membership = require_membership(request.user, study_id, "manage_study")
    policy, _created = StudySecurity.objects.get_or_create(study=membership.study)
    form = PolicyForm(
        request.POST or None, initial={"require_two_factor": policy.require_two_factor}
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            before = {"require_two_factor": policy.require_two_factor}
            policy.require_two_factor = form.cleaned_data["require_two_factor"]
            policy.save()
            record(
                "update",
                actor=request.user,
                study=membership.study,
                obj=policy,
                before=before,
                after={"require_two_factor": policy.require_two_factor},
                request=request,
            )
        return redirect("ops:study_security", study_id=study_id)
    return render(
        request, "ops/study_security.html", study_context(membership, form=form, policy=policy)
    )
