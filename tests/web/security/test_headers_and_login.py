"""Response headers (CSP without inline script/style, no-store on everything but static
files), same-origin participant pages, failed-login lockout (per user and address, and per
address across users), session expiry and the deploy check (two-factor login:
tests/web/accounts)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
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


def test_pages_with_personal_data_or_secrets_are_never_stored_by_a_cache(
    login, client, issued, cohort, study, api_tokens
):
    """The TOTP key page, participant pages, exports (page and API) and the dashboard."""
    checked = {}
    analyst = login("anna")
    checked["dashboard"] = analyst.get(reverse("dashboard:study", args=[study.pk]))
    checked["export csv"] = analyst.get(reverse("exports:download", args=[study.pk, "csv"]))
    checked["export parquet"] = analyst.get(reverse("exports:download", args=[study.pk, "parquet"]))
    analyst.logout()
    checked["API export"] = client.get(
        f"/api/studies/{study.pk}/exports/csv",
        headers={"Authorization": f"Bearer {api_tokens['anna']}"},
    )
    checked["participant consent"] = client.get(reverse("survey:consent", args=[issued.token]))
    checked["login page"] = client.get(reverse("accounts:login"))
    checked["unknown page"] = client.get("/no/such/page/")
    checked["TOTP setup"] = login("carol").get(reverse("accounts:2fa_setup"))
    assert b"authenticator" in checked["TOTP setup"].content.lower()
    for name, response in checked.items():
        assert response.status_code in {200, 404}, name
        assert "no-store" in response.get("Cache-Control", ""), name


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/fibrosurvey/site.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


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
    # Relative or root-relative (not protocol-relative "//"), a fragment, the empty data:
    # favicon, or a phone number to call; nothing that names another host.
    return (
        url == "data:,"
        or re.fullmatch(r"tel:\+?[0-9]+", url) is not None
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


def test_spraying_one_password_across_usernames_locks_out_the_address(client, users, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    url = reverse("accounts:login")
    for n in range(8):
        # Never more than 4 failures per username: below the per-user limit of 5.
        username = ["alice", "carol", "anna"][n % 3]
        response = client.post(url, {"username": username, "password": "Summer2026!"})
        assert response.status_code in {200, 429}
    locked = client.post(url, {"username": "vera", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    elsewhere = client.post(url, {"username": "vera", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 302


def test_a_valid_login_does_not_clear_the_address_count(client, users, settings):
    """An attacker's own account must not reset the spraying count."""
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    url = reverse("accounts:login")
    for username in ["alice", "carol", "anna"]:
        client.post(url, {"username": username, "password": "wrong"})
    assert client.post(url, {"username": "oscar", "password": PASSWORD}).status_code == 302
    client.logout()
    for username in ["alice", "carol", "anna"]:
        client.post(url, {"username": username, "password": "wrong"})
    assert client.post(url, {"username": "oscar", "password": PASSWORD}).status_code == 429


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
        if key not in {"DEBUG", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_URL"}
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
