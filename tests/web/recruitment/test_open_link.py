"""The open recruitment link: landing -> screener -> consent -> contact -> survey, ineligible
and quota-full visitors, and what is stored on the way."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from fibrosurvey.recruitment import DEFAULT_SCREENER
from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.participants.models import ContactDetails, Participant
from fibrosurvey.web.recruitment.models import OpenLink, QualityFlag, Visit
from fibrosurvey.web.recruitment.services import do_open_recruitment
from fibrosurvey.web.survey.models import ConsentRecord
from tests.web.recruitment.conftest import ELIGIBLE


def _token_from(response):
    assert response.status_code == 302, response.status_code
    parts = response.url.strip("/").split("/")
    assert parts[:2] == ["r", "go"] and parts[3] == "consent", response.url
    return parts[2]


def test_eligible_visitor_is_enrolled_consents_leaves_contact_and_reaches_the_survey(
    client, open_link, visit_and_screen, mailoutbox
):
    screened = visit_and_screen(client, src="patient-newsletter")
    token = _token_from(screened)
    participant = Participant.objects.get()
    visit = Visit.objects.get()
    assert visit.participant == participant and visit.source == "patient-newsletter"
    assert visit.outcome == "enrolled" and visit.answers["age"] == 45
    assert participant.site.code == "north" and participant.study_code.startswith("FS-")
    assert not QualityFlag.objects.exists()

    # Contact before consent: the survey's write rule sends the visitor to consent first.
    early = client.get(reverse("recruitment:contact", args=[token]))
    assert early.url == reverse("recruitment:consent", args=[token])
    assert client.post(reverse("recruitment:consent", args=[token]), {}).status_code == 422
    agreed = client.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
    assert agreed.url == reverse("recruitment:contact", args=[token])
    assert ConsentRecord.objects.get().participant == participant

    bad = client.post(reverse("recruitment:contact", args=[token]), {"email": "not-an-address"})
    assert bad.status_code == 422 and b"check the e-mail address" in bad.content
    saved = client.post(
        reverse("recruitment:contact", args=[token]),
        {"email": "ana@example.org", "phone": "+34 600 000 111", "action": "save"},
    )
    new_token = saved.url.strip("/").split("/")[1]
    assert saved.url == reverse("survey:entry", args=[new_token]) and new_token != token
    assert len(mailoutbox) == 1 and new_token in mailoutbox[0].body  # the link to come back
    assert client.get(saved.url).url == reverse("survey:page", args=[new_token, 1])
    assert client.get(reverse("survey:page", args=[new_token, 1])).status_code == 200

    assert ContactDetails.objects.get(participant=participant).email == "ana@example.org"
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM participants_contact_details")
        assert "ana@example.org" not in cursor.fetchone()[0]  # encrypted at rest
    actions = set(AuditRecord.objects.values_list("object_type", "action"))
    assert ("recruitment.visit", "create") in actions
    assert ("participants.participant", "consent") in actions


def test_skipping_contact_details_goes_straight_to_the_survey(client, visit_and_screen):
    token = _token_from(visit_and_screen(client))
    client.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
    skipped = client.post(reverse("recruitment:contact", args=[token]), {"action": "skip"})
    assert skipped.url == reverse("survey:entry", args=[token])
    assert ContactDetails.objects.get().email == ""


def test_ineligible_visitor_gets_a_kind_translated_page_and_is_not_enrolled(
    client, visit_and_screen
):
    reply = visit_and_screen(client, ELIGIBLE | {"age": "16"}, lang="es")
    assert reply.url == reverse("recruitment:closed", args=["fibro-survey", "ineligible"])
    page = client.get(reply.url)
    assert page.status_code == 200 and page["Content-Language"] == "es"
    assert "Gracias por su tiempo" in page.content.decode()
    assert not Participant.objects.exists()
    visit = Visit.objects.get()
    assert (visit.eligible, visit.outcome, visit.unmet_rules) == (False, "ineligible", ["age"])


def test_a_missing_answer_is_named_and_nothing_is_stored(client, visit_and_screen):
    reply = visit_and_screen(client, ELIGIBLE | {"country": ""})
    assert reply.status_code == 422
    assert b"Please answer this question." in reply.content
    visit = Visit.objects.get()
    assert visit.screened_at is None and visit.answers == {}
    assert not Participant.objects.exists()


def test_unknown_source_is_recorded_as_other_and_no_source_as_direct(client, visit_and_screen):
    visit_and_screen(client, src="made-up")
    visit_and_screen(Client(), src="")
    assert sorted(Visit.objects.values_list("source", flat=True)) == ["direct", "other"]


def test_a_full_quota_cell_closes_politely_for_new_eligible_visitors(
    study, users, visit_and_screen
):
    config = copy.deepcopy(DEFAULT_SCREENER)
    config["quotas"] = [{"name": "women", "question": "sex", "values": ["female"], "limit": 1}]
    do_open_recruitment(study, actor=users["alice"], slug="fibro-survey", screener=config)
    assert visit_and_screen(Client()).url.startswith("/r/go/")
    full = visit_and_screen(Client())
    assert full.url == reverse("recruitment:closed", args=["fibro-survey", "quota_full"])
    assert b"already have all the participants" in Client().get(full.url).content
    man = visit_and_screen(Client(), ELIGIBLE | {"sex": "male"})
    assert man.url.startswith("/r/go/")
    assert Participant.objects.count() == 2
    assert Visit.objects.filter(outcome="quota_full").count() == 1


def test_a_bad_screener_is_refused_and_the_link_is_unchanged(study, users, open_link):
    config = copy.deepcopy(DEFAULT_SCREENER)
    config["rules"] = [["nationality"]]
    with pytest.raises(ValueError, match=r"screener: rules\[0\]: a list of ids of questions"):
        do_open_recruitment(study, actor=users["alice"], slug="other-slug", screener=config)
    assert OpenLink.objects.get().slug == "fibro-survey"


def test_a_closed_link_says_so_and_counts_no_visit(client, open_link):
    OpenLink.objects.filter(pk=open_link.pk).update(is_open=False)
    page = client.get(reverse("recruitment:landing", args=[open_link.slug]))
    assert b"This study is closed" in page.content
    assert not Visit.objects.exists()
    assert client.get(reverse("recruitment:landing", args=["no-such-study"])).status_code == 404


def test_an_open_link_participant_is_withdrawn_like_any_other(client, users, visit_and_screen):
    from fibrosurvey.web.participants.withdrawal import do_withdraw_participant

    token = _token_from(visit_and_screen(client))
    do_withdraw_participant(Participant.objects.get(), actor=users["carol"])
    assert client.get(reverse("recruitment:consent", args=[token])).status_code == 404


def test_the_demo_prints_its_public_link_and_the_link_opens_the_screener(db, settings, client):
    import io

    from django.core.management import call_command

    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo_setup", "--participants", "6", "--no-migrate", stdout=out)
    call_command("demo_setup", "--participants", "6", "--no-migrate", stdout=out)  # rebuilt
    line = next(x for x in out.getvalue().splitlines() if x.startswith("Public link:"))
    path = line.removeprefix("Public link: http://127.0.0.1:8000")
    assert path == "/r/demo-survey/"
    landing = client.get(path)
    assert landing.status_code == 200 and b"Start" in landing.content
    assert client.get(reverse("recruitment:screener", args=["demo-survey"])).status_code == 200


def test_guessing_tokens_on_the_consent_page_is_throttled_like_survey_links(
    client, settings, visit_and_screen
):
    settings.LINK_MISS_LIMIT = 2
    token = _token_from(visit_and_screen(client))
    for guess in ("a" * 43, "b" * 43):
        assert client.get(reverse("recruitment:consent", args=[guess])).status_code == 404
    assert client.get(reverse("recruitment:consent", args=["c" * 43])).status_code == 429
    assert client.get(reverse("recruitment:consent", args=[token])).status_code == 429


def test_a_double_tap_on_the_screener_enrols_once_and_the_second_reply_leads_to_consent(
    client, open_link, visit_and_screen
):
    first = visit_and_screen(client)
    _token_from(first)
    again = client.post(reverse("recruitment:screener", args=[open_link.slug]), ELIGIBLE)
    token = _token_from(again)
    assert Participant.objects.count() == 1 and Visit.objects.count() == 1
    assert client.get(reverse("recruitment:consent", args=[token])).status_code == 200
    assert not QualityFlag.objects.exists()


def test_a_double_tap_after_an_ineligible_answer_shows_the_same_close_page(
    client, open_link, visit_and_screen
):
    visit_and_screen(client, ELIGIBLE | {"age": "15"})
    again = client.post(reverse("recruitment:screener", args=[open_link.slug]), ELIGIBLE)
    assert again.url == reverse("recruitment:closed", args=["fibro-survey", "ineligible"])
    assert Visit.objects.get().eligible is False  # not screened again with new answers


def test_a_link_checker_asking_head_counts_no_visit(client, open_link):
    assert client.head(reverse("recruitment:landing", args=[open_link.slug])).status_code == 200
    assert not Visit.objects.exists()


def test_public_pages_carry_no_inline_script_or_style(client, open_link, visit_and_screen):
    urls = [
        reverse("recruitment:landing", args=[open_link.slug]),
        reverse("recruitment:screener", args=[open_link.slug]),
        reverse("recruitment:closed", args=[open_link.slug, "ineligible"]),
        reverse("recruitment:closed", args=[open_link.slug, "quota_full"]),
    ]
    token = _token_from(visit_and_screen(Client()))
    urls.append(reverse("recruitment:consent", args=[token]))
    for url in urls:
        html = client.get(url).content.decode()
        assert "<script" not in html and " style=" not in html and "<style" not in html, url
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
