"""PHQ-9 item 9 above 0: safety information for the participant, an alert and an e-mail for
the team (queued in the outbox, sent by the worker); the answer is stored as given."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.web.outbox.models import OutboxEmail
from fibrosurvey.web.outbox.services import MAX_ATTEMPTS, do_send_due_emails
from fibrosurvey.web.survey.models import Response, SafetyAlert
from fibrosurvey.web.survey.services import survey_pages

MAIL_SERVER_DOWN = "tests.web.survey.failing_mail.MailServerDownBackend"


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
    # A US study (the fixture's country) in Spanish: the US numbers, in Spanish.
    assert "988" in text and "911" in text and "024" not in text
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
    assert not mail.outbox  # queued, not sent inside the participant's request
    call_command("send_outbox", "--once")
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


def test_alert_appears_on_the_dashboard_and_can_be_closed_with_a_note(
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
    carol.post(
        reverse("dashboard:alert_case", args=[study.pk, alert.pk]),
        {"status": "closed", "note": "Called; safe, seeing their GP tomorrow."},
    )

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
    call_command("send_outbox", "--once")
    assert SafetyAlert.objects.count() == 1
    assert len(mail.outbox) == 1


def test_mail_server_down_still_shows_the_safety_page_and_the_email_waits_in_the_outbox(
    client, started, study, login, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = MAIL_SERVER_DOWN
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(client, started.token, page, item9=1, nonce="a")

    assert response.status_code == 302
    assert response.url == reverse("survey:safety", args=[started.token, page.index + 2])
    assert "Si necesita ayuda ahora" in client.get(response.url).content.decode()
    queued = OutboxEmail.objects.get()
    assert (queued.kind, queued.status, queued.study_id) == ("safety_alert", "pending", study.pk)

    call_command("send_outbox", "--once")
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == ("pending", 1)
    assert "SMTPException" in queued.last_error
    assert queued.next_attempt_at > timezone.now()  # backoff: not retried at once
    dashboard = login("carol").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    assert "An alert e-mail to the study team could not be sent." in dashboard

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert do_send_due_emails() == []  # still waiting for its next attempt
    [sent] = do_send_due_emails(now=timezone.now() + timedelta(minutes=2))
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1 and started.invitation.participant.study_code in (
        mail.outbox[0].subject
    )
    after = login("carol").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    assert "could not be sent" not in after


def test_a_study_name_with_a_newline_gets_a_one_line_subject(
    client, started, study, django_capture_on_commit_callbacks
):
    study.name = "Fibro survey\nSecond line\r\nBcc: someone@example.org"
    study.save(update_fields=["name"])
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(client, started.token, page, item9=3, nonce="a")
    assert "safety" in response.url

    call_command("send_outbox", "--once")
    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert "Fibro survey Second line Bcc: someone@example.org" in message.subject
    assert message.bcc == []
    assert OutboxEmail.objects.get().status == "sent"


def test_sends_are_retried_with_growing_waits_and_given_up_after_the_last_attempt(
    client, started, study, login, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = MAIL_SERVER_DOWN
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        _answer(client, started.token, page, item9=1, nonce="a")
    queued = OutboxEmail.objects.get()
    waits = []
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        [attempted] = do_send_due_emails(now=now)
        waits.append(attempted.next_attempt_at - now)
        now = attempted.next_attempt_at
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == ("failed", MAX_ATTEMPTS)
    assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert do_send_due_emails(now=now + timedelta(days=1)) == []  # given up
    dashboard = login("alice").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    assert f"gave up after {MAX_ATTEMPTS} attempts" in dashboard


def test_the_background_worker_sends_the_outbox(
    client, started, django_capture_on_commit_callbacks
):
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        _answer(client, started.token, page, item9=1, nonce="a")
    call_command("run_analysis_jobs", "--once")
    assert len(mail.outbox) == 1
    assert OutboxEmail.objects.get().status == "sent"


def test_a_resubmitted_item9_page_shows_the_safety_page_again(
    client, started, django_capture_on_commit_callbacks
):
    page = _phq9_item9_page(started.invitation)
    safety_url = reverse("survey:safety", args=[started.token, page.index + 2])
    with django_capture_on_commit_callbacks(execute=True):
        first = _answer(client, started.token, page, item9=2, nonce="a")
        # The browser resends the same form (e.g. the first reply never arrived).
        replay = _answer(client, started.token, page, item9=2, nonce="a")
    assert first.url == replay.url == safety_url
    assert SafetyAlert.objects.count() == 1 and OutboxEmail.objects.count() == 1


def test_a_replay_after_the_answer_was_changed_to_zero_shows_no_safety_page(
    client, started, django_capture_on_commit_callbacks
):
    page = _phq9_item9_page(started.invitation)
    with django_capture_on_commit_callbacks(execute=True):
        _answer(client, started.token, page, item9=2, nonce="a")
        _answer(client, started.token, page, item9=0, nonce="b")
        replay = _answer(client, started.token, page, item9=2, nonce="a")
    # What is stored decides: item 9 is now 0.
    assert replay.url == reverse("survey:page", args=[started.token, page.index + 2])
