"""The participant's path through a survey link, saving page by page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fibrosurvey.scoring import score_response
from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.survey.models import ConsentRecord, Response
from fibrosurvey.web.survey.services import survey_pages


def _start(client, token, language="en"):
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[token]), {"language": language})


def _page_number(pages, instrument_id, part=1):
    return next(p.index + 1 for p in pages if p.instrument.id == instrument_id and p.part == part)


def test_link_leads_to_language_then_consent_then_first_page(client, issued, participant):
    """The language is chosen first, so the consent is read in it (issue 11 §5)."""
    token = issued.token
    response = client.get(reverse("survey:entry", args=[token]))
    assert response.url == reverse("survey:language", args=[token])

    chosen = client.post(reverse("survey:language", args=[token]), {"language": "es"})
    assert chosen.url == reverse("survey:consent", args=[token])
    assert "Información y consentimiento".encode() in client.get(chosen.url).content

    refused = client.post(reverse("survey:consent", args=[token]), {})
    assert refused.status_code == 422
    # The error is summarised at the top, before the consent text, as on the survey pages.
    summary = refused.content.index(b'class="error-summary"')
    assert summary < refused.content.index(b'class="consent-text"')
    assert b"marque la casilla" in refused.content[summary:]
    assert not ConsentRecord.objects.exists()

    agreed = client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    assert agreed.url == reverse("survey:page", args=[token, 1])
    consent = ConsentRecord.objects.get()
    assert consent.version == participant.study.consent_version
    assert consent.language == "es"
    participant.refresh_from_db()
    assert participant.consented_at == consent.accepted_at

    first = client.get(agreed.url)
    assert first.status_code == 200
    total = len(survey_pages(issued.invitation))
    assert f"Página 1 de {total}".encode() in first.content
    assert "Mandíbula izquierda".encode() in first.content or b"fsq_jaw_l" in first.content
    # The pain-site page asks the question itself, from the instrument definition.
    assert "¿ha tenido dolor o sensibilidad al tacto".encode() in first.content


def test_unknown_revoked_or_expired_link_is_a_friendly_404(client, issued, users):
    from django.utils import timezone

    from fibrosurvey.web.participants.invitations import do_revoke_invitation

    assert client.get(reverse("survey:entry", args=["not-a-real-token"])).status_code == 404
    Invitation.objects.filter(pk=issued.invitation.pk).update(expires_at=timezone.now())
    assert client.get(reverse("survey:entry", args=[issued.token])).status_code == 404
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        expires_at=timezone.now() + timezone.timedelta(days=1)
    )
    do_revoke_invitation(issued.invitation, actor=users["carol"])
    response = client.get(reverse("survey:entry", args=[issued.token]))
    assert response.status_code == 404
    assert b"link does not work" in response.content


def test_token_is_stored_only_as_its_sha256_hash(issued):
    import hashlib

    stored = Invitation.objects.get(pk=issued.invitation.pk).token_hash
    assert stored == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in stored
    assert len(issued.token) >= 43  # 32 random bytes, URL-safe base64


def test_reopening_the_link_resumes_at_the_page_where_the_participant_stopped(client, issued):
    token = issued.token
    _start(client, token)
    pages = survey_pages(issued.invitation)
    fsq1 = pages[0]
    client.post(
        reverse("survey:page", args=[token, 1]),
        {c: "1" for c in fsq1.columns} | {"nonce": "n1", "action": "next"},
    )
    client.get(reverse("survey:page", args=[token, 2]))

    reopened = client.get(reverse("survey:entry", args=[token]))

    assert reopened.url == reverse("survey:page", args=[token, 2])
    back_on_1 = client.get(reverse("survey:page", args=[token, 1]))
    assert back_on_1.content.count(b'value="1" checked') == len(fsq1.columns)


def test_invalid_answer_is_not_saved_and_the_message_is_in_the_participants_language(
    client, issued, participant
):
    token = issued.token
    _start(client, token, language="es")
    pages = survey_pages(issued.invitation)
    number = _page_number(pages, "demo")
    page = pages[number - 1]
    answers = {c: "" for c in page.columns} | {"demo_age": "7", "nonce": "x", "action": "next"}

    response = client.post(reverse("survey:page", args=[token, number]), answers)

    assert response.status_code == 422
    assert "número entero entre 18 y 110".encode() in response.content
    assert not Response.objects.filter(instrument_id="demo").exists()


def test_completed_instrument_stores_core_scores_and_version(client, issued, participant):
    token = issued.token
    _start(client, token)
    pages = survey_pages(issued.invitation)
    phq = [p for p in pages if p.instrument.id == "phq9"]
    values = {
        "phq9_1": 2,
        "phq9_2": 1,
        "phq9_3": 3,
        "phq9_4": 3,
        "phq9_5": 0,
        "phq9_6": 1,
        "phq9_7": 2,
        "phq9_8": 0,
        "phq9_9": 0,
        "phq9_10": 1,  # the unscored difficulty question, asked and stored
    }
    for page in phq:
        client.post(
            reverse("survey:page", args=[token, page.index + 1]),
            {c: str(values[c]) for c in page.columns} | {"nonce": f"p{page.index}"},
        )

    stored = Response.objects.get(participant=participant, instrument_id="phq9")
    assert stored.status == "complete"
    assert stored.instrument_version == "1.1.0"
    assert stored.answers == values
    assert stored.scores["phq9_total"] == 12
    assert stored.scores["phq9_band"] == "moderate"
    assert stored.scores == {k: v for k, v in score_response(values, "phq9").items()}
    study_instrument = participant.study.instruments.get(instrument_id="phq9")
    assert study_instrument.frozen_at is not None
    changes = AuditRecord.objects.filter(
        object_type="survey.response", object_id=str(stored.pk)
    ).order_by("id")
    assert [c.action for c in changes] == ["create", "update"]
    assert changes[1].before["answers"] == {c: values[c] for c in phq[0].columns}
    assert changes[1].after["answers"] == values


def test_finishing_the_last_page_shows_the_thank_you_page_without_scores(client, issued):
    token = issued.token
    _start(client, token)
    pages = survey_pages(issued.invitation)
    last = pages[-1]
    response = client.post(
        reverse("survey:page", args=[token, len(pages)]),
        {c: "" for c in last.columns} | {"nonce": "last"},
    )
    assert response.url == reverse("survey:done", args=[token])
    done = client.get(response.url)
    assert b"Thank you" in done.content
    assert b"score" not in done.content.lower()
    assert client.get(reverse("survey:entry", args=[token])).url == response.url


@pytest.mark.parametrize("language,expected", [("en", "Page 1 of {}"), ("es", "Página 1 de {}")])
def test_page_chrome_is_translated(client, issued, language, expected):
    _start(client, issued.token, language=language)
    page = client.get(reverse("survey:page", args=[issued.token, 1]))
    assert expected.format(len(survey_pages(issued.invitation))).encode() in page.content


def test_a_changed_battery_changes_the_pages_served_at_once(client, issued, study):
    """The page plan is cached per battery revision; a change is never served stale."""
    from fibrosurvey.web.participants.invitations import find_invitation
    from fibrosurvey.web.studies.models import EventInstrument

    before = survey_pages(find_invitation(issued.token))
    event = study.events.get(code="baseline")
    last = EventInstrument.objects.filter(event=event).order_by("-position").first()
    last.delete()
    shorter = survey_pages(find_invitation(issued.token))
    assert len(shorter) < len(before)
    assert last.instrument_id not in {p.instrument.id for p in shorter}

    EventInstrument.objects.create(
        event=event, instrument_id=last.instrument_id, position=last.position
    )
    assert [p.instrument.id for p in survey_pages(find_invitation(issued.token))] == [
        p.instrument.id for p in before
    ]
    _start(client, issued.token)
    page = client.get(reverse("survey:page", args=[issued.token, len(before)]))
    assert page.status_code == 200


def test_each_participant_sees_only_their_own_answers_on_a_page(issued, participant_south, study):
    """The questions' HTML is cached per (page, language, stored answers): never shared wrongly."""
    from django.test import Client

    from fibrosurvey.web.participants.invitations import do_issue_invitation

    other = do_issue_invitation(participant_south, study.events.get(code="baseline"), send=False)
    fsq1 = survey_pages(issued.invitation)[0]
    assert fsq1.display == "checklist"
    for ticket, answer in ((issued, "1"), (other, "0")):
        browser = Client()
        _start(browser, ticket.token, language="en")
        browser.post(
            reverse("survey:page", args=[ticket.token, 1]),
            {c: answer for c in fsq1.columns if answer == "1"}
            | {"nonce": f"n-{answer}", "action": "next"},
        )
    for ticket, answer in ((issued, "1"), (other, "0")):
        browser = Client()
        shown = browser.get(reverse("survey:page", args=[ticket.token, 1])).content
        ticked = len(fsq1.columns) if answer == "1" else 0
        assert shown.count(b'value="1" checked') == ticked
        assert Response.objects.get(
            participant=ticket.invitation.participant, instrument_id="fsq"
        ).answers == dict.fromkeys(fsq1.columns, int(answer))
        assert b" checked" not in shown.replace(b'value="1" checked', b"")
