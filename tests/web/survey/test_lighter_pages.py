"""Lighter survey pages (issue 11 §4-5), through the real views and services.

The FSQ needs every answer (a kind prompt, never a lost score); the pain sites are one
tick-list stored 0/1; a decimal comma is a decimal separator in every language and anything
unreadable is refused with a message, never dropped; a scale running the other way from its
neighbours says so.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from fibrosurvey.web.survey.models import Response
from fibrosurvey.web.survey.services import survey_pages


def _start(client, token, language="en"):
    # A metric study (Spain): height and weight are one box each, in cm and kg.
    from fibrosurvey.web.participants.invitations import find_invitation

    study = find_invitation(token).participant.study
    study.country = "ES"
    study.save(update_fields=["country"])
    client.post(reverse("survey:language", args=[token]), {"language": language})
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})


def _number(pages, instrument_id, part=1):
    return next(p.index + 1 for p in pages if p.instrument.id == instrument_id and p.part == part)


def _post(client, token, number, answers, nonce, action="next"):
    return client.post(
        reverse("survey:page", args=[token, number]),
        {column: str(value) for column, value in answers.items()}
        | {"nonce": nonce, "action": action},
    )


def _stored(issued, instrument_id):
    return Response.objects.get(
        participant=issued.invitation.participant, instrument_id=instrument_id
    ).answers


def test_the_pain_sites_are_one_tick_list_stored_as_0_and_1(client, issued):
    _start(client, issued.token)
    sites = survey_pages(issued.invitation)[0]
    assert sites.display == "checklist" and len(sites.items) == 19
    shown = client.get(reverse("survey:page", args=[issued.token, 1])).content.decode()
    assert shown.count('type="checkbox"') == 19 and 'type="radio"' not in shown
    moved = _post(client, issued.token, 1, {"fsq_neck": 1, "fsq_hip_r": 1}, "sites")
    assert moved.status_code == 302
    answers = _stored(issued, "fsq")
    assert answers == {c: int(c in ("fsq_neck", "fsq_hip_r")) for c in sites.columns}
    # Anything but a tick is refused, not stored as a tick or a no.
    refused = _post(client, issued.token, 1, {"fsq_neck": 2}, "sites-again")
    assert refused.status_code == 422
    assert _stored(issued, "fsq")["fsq_neck"] == 1


@pytest.mark.parametrize(
    ("language", "prompt"),
    [
        ("en", "This questionnaire needs every answer to be counted."),
        ("es", "Este cuestionario necesita todas las respuestas para poder contarse."),
    ],
)
def test_a_blank_fsq_answer_is_asked_for_kindly_and_back_still_works(
    client, issued, language, prompt
):
    _start(client, issued.token, language)
    pages = survey_pages(issued.invitation)
    _post(client, issued.token, 1, {}, "sites")
    symptoms = _number(pages, "fsq", 2)
    page = client.get(reverse("survey:page", args=[issued.token, symptoms])).content.decode()
    assert "every-answer" in page and ("leave a question blank" not in page)
    refused = _post(client, issued.token, symptoms, {"fsq_fatigue": 2}, "blank")
    assert refused.status_code == 422
    assert refused.content.decode().count(prompt) == 2  # unrefreshed and cognitive
    # Going back needs no answer, and keeps what was given.
    back = _post(client, issued.token, symptoms, {"fsq_fatigue": 2}, "back", action="back")
    assert back.status_code == 302 and back.url.endswith("/page/1/")
    assert _stored(issued, "fsq")["fsq_fatigue"] == 2
    # A page of an instrument that allows blanks says so, and takes one.
    phq = _number(pages, "phq9")
    assert (
        "every-answer"
        not in client.get(reverse("survey:page", args=[issued.token, phq])).content.decode()
    )
    assert _post(client, issued.token, phq, {"phq9_1": 1}, "phq").status_code == 302


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("typed", "stored"), [("71,5", 71.5), ("71.5", 71.5), (" 80,25 ", 80.25), ("72", 72)]
)
def test_a_decimal_comma_is_a_decimal_separator_in_every_language(
    client, issued, language, typed, stored
):
    _start(client, issued.token, language)
    number = _number(survey_pages(issued.invitation), "demo")
    answers = {"demo_age": 40, "demo_sex": 1, "demo_height_cm": "170,0", "demo_weight_kg": typed}
    assert _post(client, issued.token, number, answers, "demo").status_code == 302
    saved = _stored(issued, "demo")
    assert saved["demo_weight_kg"] == stored and saved["demo_height_cm"] == 170


@pytest.mark.parametrize("typed", ["71,5,2", "1.000,5", "seventy", "71,"])
def test_an_unreadable_number_is_refused_with_a_message_never_dropped(client, issued, typed):
    _start(client, issued.token)
    number = _number(survey_pages(issued.invitation), "demo")
    refused = _post(client, issued.token, number, {"demo_weight_kg": typed}, "demo")
    assert refused.status_code == 422
    assert "Please enter a number from 25 to 350." in refused.content.decode()
    assert f'value="{typed.strip()}"' in refused.content.decode()  # shown back to correct
    assert not Response.objects.filter(instrument_id="demo").exists()


def test_numbers_are_typed_in_a_text_field_a_browser_cannot_silently_empty(client, issued):
    _start(client, issued.token)
    number = _number(survey_pages(issued.invitation), "demo")
    page = client.get(reverse("survey:page", args=[issued.token, number])).content.decode()
    assert 'name="demo_weight_kg"' in page
    assert 'type="number"' not in page and 'inputmode="decimal"' in page


@pytest.mark.parametrize(
    ("language", "cue"),
    [
        ("en", "This scale runs the other way from the ones around it: 0 — very poor sleep"),
        ("es", "Esta escala va en sentido contrario a las de alrededor: 0 — sueño muy malo"),
    ],
)
def test_sleep_quality_says_its_scale_runs_the_other_way(client, issued, language, cue):
    _start(client, issued.token, language)
    number = _number(survey_pages(issued.invitation), "nrs")
    page = client.get(reverse("survey:page", args=[issued.token, number])).content.decode()
    assert page.count('class="reversed-cue"') == 1
    assert cue in page
    assert page.index('id="cue-nrs_sleep_quality"') > page.index('id="q-nrs_sleep_quality"')


def test_pages_of_one_direction_carry_no_cue(client, issued):
    _start(client, issued.token)
    number = _number(survey_pages(issued.invitation), "peg")
    page = client.get(reverse("survey:page", args=[issued.token, number])).content.decode()
    assert "reversed-cue" not in page
