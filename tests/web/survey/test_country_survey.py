"""The survey follows the study's country, not the participant's language (issue 11 §6)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from fibrosurvey.web.survey.models import Response
from fibrosurvey.web.survey.services import survey_pages


def _start(client, token, language):
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[token]), {"language": language})


def _page_of(pages, column):
    return next(p.index + 1 for p in pages if column in p.columns)


def _set_country(study, country):
    study.country = country
    study.save(update_fields=["country"])


def _region_labels(html):
    block = html[html.index('id="q-demo_region"') :]
    block = block[: block.index("</fieldset>")]
    return re.findall(r"<span>([^<]+)</span>", block)


@pytest.mark.parametrize(
    ("country", "language", "first", "last", "count"),
    [
        ("US", "en", "New England (CT, ME, MA, NH, RI, VT)", "Pacific (AK, CA, HI, OR, WA)", 9),
        ("US", "es", "Nueva Inglaterra (CT, ME, MA, NH, RI, VT)", "Pacífico (AK, CA, HI, OR, WA)", 9),  # noqa: E501
        ("ES", "es", "Andalucía", "Melilla", 19),
        ("ES", "en", "Andalucía", "Melilla", 19),
        ("MX", "es", "Aguascalientes", "Zacatecas", 32),
    ],
)  # fmt: skip
def test_where_do_you_live_lists_the_studys_country_in_the_participants_language(
    client, issued, study, country, language, first, last, count
):
    _set_country(study, country)
    _start(client, issued.token, language)
    pages = survey_pages(issued.invitation)
    html = client.get(
        reverse("survey:page", args=[issued.token, _page_of(pages, "demo_region")])
    ).content.decode()
    labels = _region_labels(html)
    assert (labels[0], labels[-1], len(labels)) == (first, last, count)


def test_a_region_of_another_country_is_refused(client, issued, study):
    _set_country(study, "ES")
    _start(client, issued.token, "es")
    number = _page_of(survey_pages(issued.invitation), "demo_region")
    url = reverse("survey:page", args=[issued.token, number])
    refused = client.post(url, {"demo_region": "3", "nonce": "r1"})  # a US division
    assert refused.status_code == 422
    assert not Response.objects.filter(instrument_id="demo").exists()
    saved = client.post(url, {"demo_region": "113", "nonce": "r2"})  # Comunidad de Madrid
    assert saved.status_code == 302
    assert Response.objects.get(instrument_id="demo").answers["demo_region"] == 113


def test_a_us_participant_types_feet_inches_and_pounds_and_cm_and_kg_are_stored(client, issued):
    _start(client, issued.token, "en")
    pages = survey_pages(issued.invitation)
    number = _page_of(pages, "demo_height_cm")
    url = reverse("survey:page", args=[issued.token, number])
    html = client.get(url).content.decode()
    assert 'name="demo_height_cm__ft"' in html and 'name="demo_height_cm__in"' in html
    assert 'name="demo_weight_kg__lb"' in html and 'name="demo_height_cm"' not in html
    assert "How tall are you, in feet and inches?" in html
    assert "From 3 ft 4 in to 8 ft 2 in" in html and "From 56 to 771 lb" in html

    response = client.post(
        url,
        {
            "demo_age": "52",
            "demo_sex": "1",
            "demo_height_cm__ft": "5",
            "demo_height_cm__in": "7",
            "demo_weight_kg__lb": "150",
            "nonce": "u1",
        },
    )
    assert response.status_code == 302
    answers = Response.objects.get(instrument_id="demo").answers
    assert answers["demo_height_cm"] == 170.18  # 67 in x 2.54 cm
    assert answers["demo_weight_kg"] == 68.0388555  # 150 lb x 0.45359237 kg
    # Shown again in the units typed.
    again = client.get(url).content.decode()
    assert 'name="demo_height_cm__ft" value="5"' in again
    assert 'name="demo_height_cm__in" value="7"' in again
    assert 'name="demo_weight_kg__lb" value="150"' in again


def test_a_height_out_of_range_in_feet_is_refused_in_feet(client, issued):
    _start(client, issued.token, "es")
    number = _page_of(survey_pages(issued.invitation), "demo_height_cm")
    response = client.post(
        reverse("survey:page", args=[issued.token, number]),
        {"demo_height_cm__ft": "9", "demo_height_cm__in": "0", "nonce": "u2"},
    )
    assert response.status_code == 422
    assert "Escriba un número. De 3 pies 4 pulgadas a 8 pies 2 pulgadas." in (
        response.content.decode()
    )
    assert not Response.objects.filter(instrument_id="demo").exists()


def test_a_spanish_study_asks_in_centimetres_and_kilograms(client, issued, study):
    _set_country(study, "ES")
    _start(client, issued.token, "en")
    number = _page_of(survey_pages(issued.invitation), "demo_height_cm")
    html = client.get(reverse("survey:page", args=[issued.token, number])).content.decode()
    assert 'name="demo_height_cm"' in html and 'name="demo_weight_kg"' in html
    assert "__ft" not in html and "__lb" not in html
    assert "How tall are you, in centimetres?" in html


def test_drug_examples_follow_the_country(client, issued, study):
    _set_country(study, "ES")
    _start(client, issued.token, "es")
    number = _page_of(survey_pages(issued.invitation), "tx_opioid")
    html = client.get(reverse("survey:page", args=[issued.token, number])).content.decode()
    assert "tapentadol" in html and "hidrocodona" not in html
