"""Skip logic in the web survey: hidden pages are passed over, hidden answers refused."""

from __future__ import annotations

from django.urls import reverse

from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.survey.models import Response
from fibrosurvey.web.survey.services import survey_pages


def _start(client, token):
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[token]), {"language": "en"})


def _number(pages, instrument_id, part):
    return next(p.index + 1 for p in pages if p.instrument.id == instrument_id and p.part == part)


def _post(client, token, number, answers, nonce):
    return client.post(
        reverse("survey:page", args=[token, number]),
        {column: str(value) for column, value in answers.items()} | {"nonce": nonce},
    )


def test_no_headaches_skips_the_migraine_questions_and_scores_not_positive(client, issued):
    token = issued.token
    _start(client, token)
    pages = survey_pages(issued.invitation)
    gate = _number(pages, "migraine", 1)
    moved = _post(client, token, gate, {"migraine_headaches": 0}, "m1")
    # Straight past the screener to the next instrument's first page.
    assert moved.url == reverse("survey:page", args=[token, _number(pages, "ibs", 1)])
    stored = Response.objects.get(instrument_id="migraine")
    assert stored.status == "complete"
    assert stored.answers == {"migraine_headaches": 0}
    assert stored.scores == {"migraine_positive": 0}
    assert stored.instrument_version == "1.1.0"
    # An old link to the hidden page moves on instead of asking.
    hidden = client.get(reverse("survey:page", args=[token, gate + 1]))
    assert hidden.url == reverse("survey:page", args=[token, gate + 2])


def test_back_from_the_page_after_a_hidden_page_returns_to_the_gate(client, issued):
    token = issued.token
    _start(client, token)
    pages = survey_pages(issued.invitation)
    gate = _number(pages, "migraine", 1)
    _post(client, token, gate, {"migraine_headaches": 0}, "m1")
    back = client.post(
        reverse("survey:page", args=[token, gate + 2]),
        {"ibs_abdominal_pain": "1", "nonce": "b1", "action": "back"},
    )
    assert back.url == reverse("survey:page", args=[token, gate])


def test_answer_to_a_hidden_question_is_refused_and_nothing_is_stored(client, issued):
    token = issued.token
    _start(client, token)
    pages = survey_pages(issued.invitation)
    gates = _number(pages, "tx", 2)
    _post(client, token, gates, {"tx_cbd_product": 0, "tx_thc_use": 1}, "g1")
    before = Response.objects.get(instrument_id="tx").answers
    # Next is the THC page: the CBD page is hidden.
    assert Invitation.objects.get(pk=issued.invitation.pk).current_page == gates + 1
    doses = _number(pages, "tx", 3)
    refused = _post(client, token, doses, {"tx_cbd_mg_day": 20, "tx_cbd_days_week": 3}, "d1")
    assert refused.status_code == 422
    assert b"no longer asked, because of an earlier answer" in refused.content
    assert Response.objects.get(instrument_id="tx").answers == before
    assert Invitation.objects.get(pk=issued.invitation.pk).current_page == gates + 1


def test_hidden_questions_are_not_shown_and_changing_a_gate_drops_their_answers(client, issued):
    token = issued.token
    _start(client, token)
    pages = survey_pages(issued.invitation)
    gates = _number(pages, "tx", 2)
    moved = _post(client, token, gates, {"tx_cbd_product": 2, "tx_thc_use": 0}, "g1")
    cbd = _number(pages, "tx", 3)
    assert moved.url == reverse("survey:page", args=[token, cbd])
    shown = client.get(moved.url)
    assert b'name="tx_cbd_mg_day"' in shown.content
    after_cbd = _post(client, token, cbd, {"tx_cbd_mg_day": 20, "tx_cbd_days_week": 3}, "c1")
    # THC doses are hidden (no THC): on to "days since last use".
    assert after_cbd.url == reverse("survey:page", args=[token, _number(pages, "tx", 5)])
    assert Response.objects.get(instrument_id="tx").answers["tx_cbd_mg_day"] == 20
    # The participant goes back and says "no CBD": the CBD answers are no longer kept.
    _post(client, token, gates, {"tx_cbd_product": 0, "tx_thc_use": 0}, "g2")
    answers = Response.objects.get(instrument_id="tx").answers
    assert "tx_cbd_mg_day" not in answers and "tx_cbd_days_week" not in answers
