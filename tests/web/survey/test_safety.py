"""PHQ-9 item 9 above 0: safety information for the participant, an alert and an e-mail for
the team; the answer is stored as given."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from fibrosurvey.web.survey.models import Response, SafetyAlert
from fibrosurvey.web.survey.services import survey_pages


@pytest.fixture
def started(client, issued):
    client.post(reverse("survey:consent", args=[issued.token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[issued.token]), {"language": "es"})
    return issued


def _phq9_item9_page(invitation):
    return next(p for p in survey_pages(invitation) if "phq9_9" in p.columns)


def _answer(client, token, page, item9, nonce):
    answers = {c: "0" for c in page.columns} | {"phq9_9": str(item9)}
    return client.post(
        reverse("survey:page", args=[token, page.index + 1]),
        answers | {"nonce": nonce, "action": "next"},
    )


def test_item9_above_zero_shows_safety_information_in_the_participants_language(
    client, started, participant, django_capture_on_commit_callbacks
):
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(client, started.token, page, item9=1, nonce="a")

    assert response.url == reverse("survey:safety", args=[started.token, page.index + 2])
    safety = client.get(response.url)
    text = safety.content.decode()
    assert "Si necesita ayuda ahora" in text
    assert "024" in text and "112" in text
    assert "puntuación" not in text.lower() and "score" not in text.lower()
    # Continue goes to the page after PHQ-9's item 9.
    assert reverse("survey:page", args=[started.token, page.index + 2]) in text


def test_item9_answer_is_stored_and_the_team_gets_an_alert_and_an_email(
    client, started, participant, users, django_capture_on_commit_callbacks
):
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        _answer(client, started.token, page, item9=2, nonce="a")

    stored = Response.objects.get(participant=participant, instrument_id="phq9")
    assert stored.answers["phq9_9"] == 2
    alert = SafetyAlert.objects.get()
    assert (alert.participant, alert.value, alert.acknowledged_at) == (participant, 2, None)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert participant.study_code in message.subject
    # Owner and unrestricted coordinator; sam (site south) does not cover this north participant.
    assert sorted(message.to) == ["alice@example.org", "carol@example.org"]
    assert f"/studies/{participant.study_id}/" in message.body  # where to acknowledge
    assert "maria" not in message.body.lower()  # no contact data in the alert


def test_item9_zero_raises_no_alert(client, started, django_capture_on_commit_callbacks):
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(client, started.token, page, item9=0, nonce="a")
    assert "safety" not in response.url
    assert not SafetyAlert.objects.exists()
    assert not mail.outbox


def test_alert_appears_on_the_dashboard_and_can_be_acknowledged(
    client, started, study, login, django_capture_on_commit_callbacks
):
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        _answer(client, started.token, page, item9=1, nonce="a")
    alert = SafetyAlert.objects.get()

    carol = login("carol")
    dashboard = carol.get(reverse("dashboard:study", args=[study.pk]))
    assert "Open safety alerts" in dashboard.content.decode()
    assert alert.participant.study_code in dashboard.content.decode()
    carol.post(reverse("dashboard:acknowledge_alert", args=[study.pk, alert.pk]))

    alert.refresh_from_db()
    assert alert.acknowledged_by.username == "carol"
    after = carol.get(reverse("dashboard:study", args=[study.pk])).content.decode()
    assert "No open safety alerts." in after


def test_a_resubmitted_item9_page_keeps_one_alert(
    client, started, django_capture_on_commit_callbacks
):
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        _answer(client, started.token, page, item9=1, nonce="a")
        _answer(client, started.token, page, item9=1, nonce="b")
    assert SafetyAlert.objects.count() == 1
    assert len(mail.outbox) == 1
