"""Two-factor login: a study makes it mandatory; members enrol a TOTP device (after a fresh
password), then enter a code per session; API tokens wait for a confirmed device."""

from __future__ import annotations

import hashlib
import hmac
import re
import struct
import time

import pytest
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from tests.web.conftest import PASSWORD, PERSONAS

FRESH_LOGIN_KEY = "accounts.password_entered_at"


def totp(key: bytes, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP (HMAC-SHA1), written out here independently of django-otp."""
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


def _require_2fa(login, study):
    owner = login("alice")
    response = owner.post(
        reverse("studies:security", args=[study.pk]), {"require_two_factor": "on"}
    )
    assert response.status_code == 302
    owner.logout()


def _login_long_ago(client, user):
    client.force_login(user)
    session = client.session
    session[FRESH_LOGIN_KEY] = int(time.time()) - 3600
    session.save()


def test_study_owner_makes_2fa_mandatory_and_a_member_must_set_it_up_first(login, study, users):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _require_2fa(login, study)
    assert AuditRecord.objects.filter(action="update", object_type="ops.studysecurity").exists()
    client = login("carol")
    study_page = reverse("dashboard:study", args=[study.pk])

    blocked = client.get(study_page)
    assert blocked.status_code == 302
    assert blocked.url.startswith(reverse("accounts:2fa_setup"))
    setup = client.get(blocked.url)
    assert setup.status_code == 200
    device = TOTPDevice.objects.get(user=users["carol"])
    assert not device.confirmed

    wrong = client.post(
        blocked.url, {"token": "000000" if totp(device.bin_key) != "000000" else "111111"}
    )
    assert wrong.status_code == 422
    assert client.get(study_page).status_code == 302

    # django-otp throttles a device for 1 s after one wrong code (doubling per failure).
    time.sleep(1.1)
    confirmed = client.post(blocked.url, {"token": totp(device.bin_key), "next": study_page})
    assert confirmed.status_code == 302
    assert confirmed.url == study_page
    assert client.get(study_page).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditRecord.objects.filter(
        action="update", actor=users["carol"], after={"two_factor": "totp device confirmed"}
    ).exists()

    # A new session must enter a fresh code before any study page.
    client.logout()
    client.force_login(users["carol"])
    again = client.get(study_page)
    assert again.url.startswith(reverse("accounts:2fa_verify"))
    next_code = totp(device.bin_key, at=time.time() + 30)
    assert client.post(again.url, {"token": next_code}).status_code == 302
    assert client.get(study_page).status_code == 200


def test_without_the_policy_members_are_not_asked_for_a_second_factor(login, study):
    assert login("carol").get(reverse("dashboard:study", args=[study.pk])).status_code == 200


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_owner_may_change_the_2fa_policy(login, study, other_study, persona):
    from fibrosurvey.web.ops.models import StudySecurity

    url = reverse("studies:security", args=[study.pk])
    client = login(persona)
    expected = {"alice": 302, "oscar": 404, "anonymous": 302}.get(persona, 403)

    assert client.get(url).status_code == (200 if persona == "alice" else expected)
    response = client.post(url, {"require_two_factor": "on"})

    assert response.status_code == expected
    if persona == "anonymous":
        assert response.url.startswith(reverse("accounts:login"))
    required = StudySecurity.objects.filter(study=study, require_two_factor=True).exists()
    assert required == (persona == "alice")


# --- API tokens ---------------------------------------------------------------------------


def test_api_tokens_stop_working_when_two_factor_becomes_mandatory_until_a_device_is_confirmed(
    login, study, users, api_client
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    url = f"/api/studies/{study.pk}"
    assert api_client("carol").get(url).status_code == 200

    _require_2fa(login, study)

    refused = api_client("carol").get(url)
    assert refused.status_code == 403
    assert "two-factor" in refused.json()["detail"]
    # Only the holder of a confirmed device gets back in; an unconfirmed one is not enough.
    TOTPDevice.objects.create(user=users["carol"], name="phone", confirmed=False)
    assert api_client("carol").get(url).status_code == 403
    TOTPDevice.objects.create(user=users["carol"], name="phone", confirmed=True)
    assert api_client("carol").get(url).status_code == 200


def test_members_of_only_other_studies_keep_using_their_tokens(
    login, study, other_study, api_client
):
    _require_2fa(login, study)
    assert api_client("oscar").get(f"/api/studies/{other_study.pk}").status_code == 200


# --- enrolment needs a fresh password -------------------------------------------------------


def test_enrolling_a_device_needs_the_password_again_after_an_old_login(client, study, users):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _login_long_ago(client, users["carol"])
    url = reverse("accounts:2fa_setup")

    asked = client.get(url)
    assert asked.status_code == 200
    assert b'name="password"' in asked.content
    assert b"otp-key" not in asked.content
    assert not TOTPDevice.objects.filter(user=users["carol"]).exists()

    wrong = client.post(url, {"password": "not it"})
    assert wrong.status_code == 422
    assert b"That password is not right" in wrong.content
    assert not TOTPDevice.objects.filter(user=users["carol"]).exists()
    assert AuditRecord.objects.filter(action="login_failed", after__username="carol").exists()

    right = client.post(url, {"password": PASSWORD})
    assert right.status_code == 302
    shown = client.get(right.url)
    assert b"otp-key" in shown.content
    assert TOTPDevice.objects.filter(user=users["carol"], confirmed=False).count() == 1


def test_a_code_without_a_fresh_password_does_not_confirm_a_device(client, study, users):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(users["carol"])
    client.get(reverse("accounts:2fa_setup"))  # fresh: creates the pending device
    device = TOTPDevice.objects.get(user=users["carol"])
    _login_long_ago(client, users["carol"])

    response = client.post(reverse("accounts:2fa_setup"), {"token": totp(device.bin_key)})

    assert response.status_code == 200
    device.refresh_from_db()
    assert not device.confirmed


def test_a_fresh_login_goes_straight_to_the_key(login, study):
    response = login("carol").get(reverse("accounts:2fa_setup"))
    assert response.status_code == 200
    assert b"otp-key" in response.content


# --- set-up page ----------------------------------------------------------------------------


def test_setup_page_says_a_study_requires_a_second_factor_only_when_one_does(login, study):
    sentence = b"A study you work on asks every member to use a second factor"
    voluntary = login("carol").get(reverse("accounts:2fa_setup"))
    assert voluntary.status_code == 200
    assert sentence not in voluntary.content

    _require_2fa(login, study)
    required = login("carol").get(reverse("accounts:2fa_setup"))
    assert sentence in required.content


def test_setup_page_shows_the_key_as_an_inline_svg_qr_code_without_inline_style(
    login, study, users
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from fibrosurvey.web.accounts.twofactor import qr_svg

    page = login("carol").get(reverse("accounts:2fa_setup")).content.decode()
    device = TOTPDevice.objects.get(user=users["carol"])

    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert svg is not None
    assert svg.group(0) == str(qr_svg(device.config_url))
    assert "<path" in svg.group(0)
    assert not re.search(r"\sstyle=|<style|<script|\son[a-z]+=", svg.group(0))


@pytest.mark.parametrize("persona", PERSONAS)
def test_own_security_page_is_for_any_logged_in_user(login, study, other_study, persona):
    response = login(persona).get(reverse("accounts:security"))
    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))
    else:
        assert response.status_code == 200
        assert reverse("accounts:password_change").encode() in response.content
