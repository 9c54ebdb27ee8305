"""Account actions, each in one transaction with its audit record."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from fibrosurvey.web.audit.services import record
from fibrosurvey.web.ops.models import StudySecurity
from fibrosurvey.web.studies.models import Study

__all__ = [
    "do_confirm_device",
    "do_record_failed_code",
    "do_set_two_factor_policy",
    "pending_device",
]


def pending_device(user: User) -> TOTPDevice:
    """The user's unconfirmed TOTP device, created on first use (its key is shown once set up
    starts and stays the same until confirmed, so a reload does not invalidate the app)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


@transaction.atomic
def do_confirm_device(device: TOTPDevice, *, request: HttpRequest) -> TOTPDevice:
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(
        "update",
        actor=device.user,
        obj=device.user,
        object_type="auth.user",
        after={"two_factor": "totp device confirmed"},
        request=request,
    )
    return device


def do_record_failed_code(user: User, *, request: HttpRequest) -> None:
    record(
        "login_failed",
        actor=user,
        obj=user,
        object_type="auth.user",
        after={"two_factor": "wrong code"},
        request=request,
    )


@transaction.atomic
def do_set_two_factor_policy(
    study: Study, *, require_two_factor: bool, actor: User, request: HttpRequest | None = None
) -> StudySecurity:
    policy, _created = StudySecurity.objects.select_for_update().get_or_create(study=study)
    before = {"require_two_factor": policy.require_two_factor}
    policy.require_two_factor = require_two_factor
    policy.save()
    record(
        "update",
        actor=actor,
        study=study,
        obj=policy,
        before=before,
        after={"require_two_factor": policy.require_two_factor},
        request=request,
    )
    return policy
