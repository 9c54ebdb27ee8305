"""Password change and e-mailed reset (Django's views, our templates), each audited."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from tests.web.conftest import PASSWORD

NEW_PASSWORD = "a much longer passphrase 2026"


def _password_records(user):
    return AuditRecord.objects.filter(
        action="update", object_type="auth.user", actor=user, after={"password": "changed"}
    )


def test_login_page_links_to_the_password_reset(client, db):
    page = client.get(reverse("accounts:login")).content.decode()
    assert reverse("accounts:password_reset") in page


def test_a_member_changes_their_password_and_it_is_audited_without_the_hash(login, users):
    client = login("carol")
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_change_done")
    carol = get_user_model().objects.get(username="carol")
    assert carol.check_password(NEW_PASSWORD)
    record = _password_records(carol).get()
    assert carol.password not in str(record.after) + str(record.before)
    # Still logged in (the session hash was updated), and the new password logs in.
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_a_wrong_current_password_is_a_422_and_changes_nothing(login, users):
    client = login("carol")
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert b"old password was entered incorrectly" in response.content
    assert get_user_model().objects.get(username="carol").check_password(PASSWORD)
    assert not _password_records(users["carol"]).exists()


def test_password_change_needs_a_login(client, db):
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_forgotten_password_is_reset_through_an_emailed_link_and_audited(client, users):
    sent = client.post(reverse("accounts:password_reset"), {"email": "carol@example.org"})
    assert sent.status_code == 302
    assert sent.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["carol@example.org"]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    assert link is not None

    form_page = client.get(link.group(1))  # Django swaps the token into the session
    assert form_page.status_code == 302
    done = client.post(
        form_page.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert done.status_code == 302
    assert done.url == reverse("accounts:password_reset_complete")
    carol = get_user_model().objects.get(username="carol")
    assert carol.check_password(NEW_PASSWORD)
    assert _password_records(carol).count() == 1
    # The link works once.
    assert b"not valid any more" in client.get(link.group(1), follow=True).content


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, users):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_logging_in_is_not_taken_for_a_password_change(client, users):
    client.post(reverse("accounts:login"), {"username": "carol", "password": PASSWORD})
    assert "_auth_user_id" in client.session
    assert not _password_records(users["carol"]).exists()
