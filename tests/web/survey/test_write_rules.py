"""One rule decides whether answers may be written (current consent, survey not complete),
for every write path; finished links show only "your answers are saved"; staff reopen a
survey; page nonces are scoped to (invitation, page) and a missing one is never "saved"."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.survey.models import PageSubmission, Response
from fibrosurvey.web.survey.rules import AnswersRefused, write_refusal
from fibrosurvey.web.survey.services import do_save_page, survey_pages


def _start(client, token, language="en"):
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[token]), {"language": language})


def _post_page(client, token, page, value, nonce):
    return client.post(
        reverse("survey:page", args=[token, page.index + 1]),
        {c: value for c in page.columns} | {"nonce": nonce, "action": "next"},
    )


def _finish(client, token, pages):
    last = pages[-1]
    return client.post(
        reverse("survey:page", args=[token, len(pages)]),
        {c: "" for c in last.columns} | {"nonce": "finish", "action": "next"},
    )


def _fresh(invitation):
    return Invitation.objects.select_related("participant", "participant__study", "event").get(
        pk=invitation.pk
    )


# --- Issue 9 §1: one home for the consent rule --------------------------------------------


def test_after_a_consent_change_the_save_service_itself_refuses_answers(client, issued, study):
    """Any write path (staff data entry included) goes through do_save_page, which asks the
    rule: a path that forgets to check consent still cannot store answers."""
    _start(client, issued.token)
    study.consent_version = "2.0"
    study.save(update_fields=["consent_version"])
    invitation = _fresh(issued.invitation)
    page = survey_pages(invitation)[0]

    assert write_refusal(invitation).reason == "consent"
    with pytest.raises(AnswersRefused, match="consent"):
        do_save_page(invitation, page, dict.fromkeys(page.columns, "1"), nonce="n", moving_to=1)
    assert not Response.objects.exists()
    assert not PageSubmission.objects.exists()


def test_after_a_consent_change_a_web_page_goes_back_to_consent_and_stores_nothing(
    client, issued, study
):
    _start(client, issued.token)
    study.consent_version = "2.0"
    study.save(update_fields=["consent_version"])
    page = survey_pages(issued.invitation)[0]

    response = _post_page(client, issued.token, page, "1", nonce="n1")

    assert response.url == reverse("survey:consent", args=[issued.token])
    assert not Response.objects.exists()


# --- Issue 10 #10: finished links are closed ------------------------------------------------


@pytest.fixture
def finished(client, issued):
    _start(client, issued.token, language="es")
    pages = survey_pages(issued.invitation)
    _post_page(client, issued.token, pages[0], "1", nonce="first")
    assert _finish(client, issued.token, pages).url == reverse("survey:done", args=[issued.token])
    return issued


def test_a_finished_link_shows_only_the_saved_page_never_the_answers(client, finished):
    token = finished.token
    for url in (
        reverse("survey:entry", args=[token]),
        reverse("survey:page", args=[token, 1]),
        reverse("survey:language", args=[token]),
        reverse("survey:consent", args=[token]),
    ):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response.url == reverse("survey:done", args=[token]), url
    done = Client().get(reverse("survey:done", args=[token])).content.decode()
    assert "Sus respuestas se han guardado" in done
    assert "póngase en contacto con el equipo del estudio" in done
    assert 'name="nonce"' not in done and "<form" not in done


def test_a_finished_link_cannot_change_the_answers(finished, participant):
    page = survey_pages(finished.invitation)[0]
    before = Response.objects.get(participant=participant, instrument_id=page.instrument.id)

    response = _post_page(Client(), finished.token, page, "0", nonce="attacker")

    assert response.url == reverse("survey:done", args=[finished.token])
    after = Response.objects.get(pk=before.pk)
    assert after.answers == before.answers and after.updated == before.updated
    assert not PageSubmission.objects.filter(nonce="attacker").exists()


def test_a_finished_link_without_a_nonce_is_sent_to_the_saved_page_not_a_form(finished):
    page = survey_pages(finished.invitation)[0]
    response = _post_page(Client(), finished.token, page, "0", nonce="")
    assert response.status_code == 302
    assert response.url == reverse("survey:done", args=[finished.token])


def test_a_resent_final_page_after_finishing_still_gets_its_reply(client, finished):
    pages = survey_pages(finished.invitation)
    replay = _finish(client, finished.token, pages)
    assert replay.url == reverse("survey:done", args=[finished.token])


def test_staff_reopen_a_finished_survey_and_the_link_can_change_answers_again(
    client, finished, participant, study, login
):
    carol = login("carol")
    detail = carol.get(reverse("participants:detail", args=[study.pk, participant.pk]))
    assert "Reopen survey" in detail.content.decode()

    reopened = carol.post(
        reverse("survey_staff:reopen", args=[study.pk, participant.pk, "baseline"])
    )

    assert reopened.status_code == 302
    invitation = Invitation.objects.get(pk=finished.invitation.pk)
    assert invitation.completed_at is None
    audit = AuditRecord.objects.filter(
        object_type="participants.invitation", actor__username="carol"
    ).get()
    assert audit.action == "update" and audit.before["completed_at"] is not None
    assert audit.after["completed_at"] is None and audit.after["reopened"] is True
    page = survey_pages(invitation)[0]
    client.logout()
    changed = _post_page(client, finished.token, page, "0", nonce="after-reopen")
    assert changed.url == reverse("survey:page", args=[finished.token, 2])
    stored = Response.objects.get(participant=participant, instrument_id=page.instrument.id)
    assert all(stored.answers[c] == 0 for c in page.columns)


@pytest.mark.parametrize(("persona", "status"), [("vera", 403), ("sam", 404), ("oscar", 404)])
def test_only_staff_covering_the_participant_may_reopen(
    finished, participant, study, login, persona, status
):
    response = login(persona).post(
        reverse("survey_staff:reopen", args=[study.pk, participant.pk, "baseline"])
    )
    assert response.status_code == status
    assert Invitation.objects.get(pk=finished.invitation.pk).completed_at is not None


# --- Issue 10 #18: nonces scoped to (invitation, page); a missing one is not "saved" -----------


def test_the_same_nonce_on_two_invitations_saves_both(issued, participant_south, study):
    other = do_issue_invitation(participant_south, study.events.get(code="baseline"), send=False)
    page = survey_pages(issued.invitation)[0]
    for ticket in (issued, other):
        browser = Client()
        _start(browser, ticket.token)
        response = _post_page(browser, ticket.token, page, "1", nonce="same-nonce")
        assert response.url == reverse("survey:page", args=[ticket.token, 2])
    assert Response.objects.filter(instrument_id=page.instrument.id).count() == 2


def test_the_same_nonce_on_two_pages_saves_both(client, issued, participant):
    _start(client, issued.token)
    first, second = survey_pages(issued.invitation)[:2]
    _post_page(client, issued.token, first, "1", nonce="same-nonce")
    _post_page(client, issued.token, second, "1", nonce="same-nonce")
    stored = {}
    for response in Response.objects.filter(participant=participant):
        stored |= response.answers
    assert set(first.columns + second.columns) <= set(stored)


@pytest.mark.parametrize("nonce", ["", "   ", "x" * 65])
def test_a_missing_nonce_asks_to_reload_and_saves_nothing(client, issued, nonce):
    _start(client, issued.token)
    page = survey_pages(issued.invitation)[0]

    response = _post_page(client, issued.token, page, "1", nonce=nonce)

    assert response.status_code == 400
    assert "Please reload the page" in response.content.decode()
    assert not Response.objects.exists()
    assert not PageSubmission.objects.exists()
