"""Response headers (CSP without inline script/style), same-origin participant pages,
failed-login lockout, mandatory TOTP per study, session expiry and the deploy check."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import struct
import subprocess
import sys
import time
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.web.audit.models import AuditRecord
from tests.web.conftest import PASSWORD

TEMPLATE_ROOT = Path(__file__).resolve().parents[3] / "src" / "fibrosurvey" / "web"


# --- headers ------------------------------------------------------------------------------


def _csp(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("who", ["anonymous", "alice"])
def test_every_page_sends_csp_without_inline_script_and_anti_framing_headers(login, study, who):
    client = login(who)
    url = (
        reverse("dashboard:study", args=[study.pk]) if who == "alice" else reverse("accounts:login")
    )
    response = client.get(url)
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["script-src"] == "script-src 'self'"
    assert csp["style-src"] == "style-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["default-src"] == "default-src 'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_has_inline_script_style_or_event_handlers():
    offenders = []
    pattern = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.I)
    templates = list(TEMPLATE_ROOT.rglob("templates/**/*.html"))
    assert len(templates) > 15
    for path in templates:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(TEMPLATE_ROOT)}:{number}: {line.strip()}")
    assert offenders == []


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        for name, value in attrs:
            if name in {"src", "href", "action", "srcset", "poster", "data"} and value is not None:
                self.urls.append(value)
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}>")
        if tag in {"script", "style"}:
            self.inline.append(f"<{tag}>")


def _same_origin(url: str) -> bool:
    # Relative or root-relative (not protocol-relative "//"), a fragment, or the empty
    # data: favicon; nothing that names another host.
    return (
        url == "data:,"
        or url.startswith("#")
        or (url.startswith("/") and not url.startswith("//"))
        or (re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) is None and not url.startswith("//"))
    )


def test_every_participant_page_loads_only_same_origin_resources(client, issued):
    from fibrosurvey.web.survey.services import survey_pages

    token = issued.token
    pages = [
        reverse("survey:consent", args=[token]),
        reverse("survey:language", args=[token]),
    ]
    client.post(pages[0], {"agree": "yes"})
    client.post(pages[1], {"language": "en"})
    pages += [
        reverse("survey:page", args=[token, n + 1])
        for n in range(len(survey_pages(issued.invitation)))
    ]
    pages += [reverse("survey:safety", args=[token, 2]), reverse("survey:entry", args=["unknown"])]
    checked = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code in {200, 404}, url
        parser = _Links()
        parser.feed(response.content.decode())
        assert parser.urls, url
        assert [u for u in parser.urls if not _same_origin(u)] == [], url
        assert parser.inline == [], url
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        checked += 1
    assert checked == len(pages) > 30


# --- lockout ------------------------------------------------------------------------------


def test_five_failed_logins_lock_the_account_and_each_is_audited(client, users):
    url = reverse("accounts:login")
    for _ in range(5):
        response = client.post(url, {"username": "alice", "password": "wrong"})
        assert response.status_code in {200, 429}
    locked = client.post(url, {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    failures = AuditRecord.objects.filter(action="login_failed", after__username="alice")
    assert failures.count() >= 5
    assert failures.filter(after__locked_out=True).exists()


def test_four_failures_then_the_right_password_still_logs_in(client, users):
    url = reverse("accounts:login")
    for _ in range(4):
        client.post(url, {"username": "carol", "password": "wrong"})
    response = client.post(url, {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(users["carol"].pk)


# --- TOTP ---------------------------------------------------------------------------------


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
        reverse("ops:study_security", args=[study.pk]), {"require_two_factor": "on"}
    )
    assert response.status_code == 302
    owner.logout()


def test_study_owner_makes_2fa_mandatory_and_a_member_must_set_it_up_first(login, study, users):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _require_2fa(login, study)
    assert AuditRecord.objects.filter(action="update", object_type="ops.studysecurity").exists()
    client = login("carol")
    study_page = reverse("dashboard:study", args=[study.pk])

    blocked = client.get(study_page)
    assert blocked.status_code == 302
    assert blocked.url.startswith(reverse("ops:2fa_setup"))
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

    # A new session must enter a fresh code before any study page.
    client.logout()
    client.force_login(users["carol"])
    again = client.get(study_page)
    assert again.url.startswith(reverse("ops:2fa_verify"))
    next_code = totp(device.bin_key, at=time.time() + 30)
    assert client.post(again.url, {"token": next_code}).status_code == 302
    assert client.get(study_page).status_code == 200


def test_without_the_policy_members_are_not_asked_for_a_second_factor(login, study):
    assert login("carol").get(reverse("dashboard:study", args=[study.pk])).status_code == 200


def test_only_the_owner_may_change_the_2fa_policy(login, study):
    response = login("carol").post(
        reverse("ops:study_security", args=[study.pk]), {"require_two_factor": "on"}
    )
    assert response.status_code == 403


# --- sessions -----------------------------------------------------------------------------


def test_session_expires_after_30_minutes_idle_and_each_request_renews_it(login, study):
    from django.contrib.sessions.models import Session

    client = login("alice")
    page = reverse("dashboard:study", args=[study.pk])
    assert client.get(page).status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)

    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert client.get(page).status_code == 200
    renewed = Session.objects.get(pk=session.pk).expire_date - timezone.now()
    assert renewed > timedelta(minutes=29)

    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = client.get(page)
    assert expired.status_code == 302
    assert expired.url.startswith(reverse("accounts:login"))


# --- deploy check -------------------------------------------------------------------------


def test_deploy_check_passes_with_production_settings(tmp_path):
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DEBUG", "FIBROSURVEY_TESTING", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="x" + hashlib.sha256(os.urandom(32)).hexdigest() + "-prod-Z9!",
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        AUDIT_HMAC_KEY=hashlib.sha256(os.urandom(32)).hexdigest(),
        ALLOWED_HOSTS="survey.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        FIBROSURVEY_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="fibrosurvey.web.settings",
    )
    code = (
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no issues" in (result.stdout + result.stderr)
