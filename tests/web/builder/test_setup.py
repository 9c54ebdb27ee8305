"""The owner's settings pages: settings and languages, consent versions, events and batteries,
and staff data entry through the participant's own write path."""

from __future__ import annotations

from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.exports.dataset import DatasetBuilder
from fibrosurvey.web.survey.models import Response
from tests.web.builder.test_library import PEG, answer_survey


def test_settings_change_title_languages_and_safety_contact_audited(login, own_study):
    client = login("alice")
    url = reverse("builder:settings", args=[own_study.pk])
    reply = client.post(
        url,
        {
            "title_en": "Mood pilot 2026",
            "title_es": "Piloto de ánimo 2026",
            "description_en": "A short study of mood.",
            "languages": ["en", "es"],
            "country": "ES",
            "safety_phone": "+34 900 123 456",
            "safety_email": "safety@example.org",
            "safety_hours": "Mon-Fri 9:00-17:00",
        },
    )
    assert reply.status_code == 302
    own_study.refresh_from_db()
    assert own_study.title_in("es") == "Piloto de ánimo 2026"
    assert own_study.country == "ES"
    assert own_study.public_description == {"en": "A short study of mood."}
    assert (own_study.safety_phone, own_study.safety_hours) == (
        "+34 900 123 456",
        "Mon-Fri 9:00-17:00",
    )
    record = (
        AuditRecord.objects.filter(object_type="studies.study", action="update")
        .order_by("pk")
        .last()
    )
    assert record.actor.username == "alice"
    assert (
        record.after["safety_email"] == "safety@example.org" and record.before["safety_email"] == ""
    )


def test_a_language_participants_answer_in_stays_offered(login, own_study, enrol):
    enrol("es")
    reply = login("alice").post(
        reverse("builder:settings", args=[own_study.pk]),
        {"title_en": "X", "languages": ["en"], "country": own_study.country},
    )
    assert reply.status_code == 409 and "participants answer in es" in reply.content.decode()
    own_study.refresh_from_db()
    assert own_study.languages == ["en", "es"]


def test_the_country_cannot_change_once_answers_were_given(client, login, own_study, enrol):
    participant, token = enrol("en")
    answer_survey(
        client, token, {"mood_low": "0", "mood_sleep": "2", "mood_energy": "1"} | PEG, participant
    )
    other = "MX" if own_study.country != "MX" else "ES"
    reply = login("alice").post(
        reverse("builder:settings", args=[own_study.pk]),
        {"title_en": "X", "languages": ["en", "es"], "country": other},
    )
    assert reply.status_code == 409 and "the country cannot change now" in reply.content.decode()
    own_study.refresh_from_db()
    assert own_study.country != other


def test_consent_change_is_a_new_version_participants_consent_again_export_shows_it(
    client, login, own_study, enrol
):
    participant, token = enrol("en")
    answer_survey(
        client, token, {"mood_low": "0", "mood_sleep": "2", "mood_energy": "1"} | PEG, participant
    )
    first = DatasetBuilder(own_study).frame()
    assert first["consent_version"].to_list() == ["1.0"]

    owner = login("alice")
    url = reverse("builder:consent", args=[own_study.pk])
    assert (
        owner.post(
            url, {"consent_en": "Please agree. (v2)", "consent_es": "Por favor. (v2)"}
        ).status_code
        == 302
    )
    assert (
        owner.post(
            url, {"consent_en": "Please agree. (v2)", "consent_es": "Por favor. (v2)"}
        ).status_code
        == 302
    )
    own_study.refresh_from_db()
    assert own_study.consent_version == "2"
    assert list(own_study.consent_versions.values_list("version", flat=True)) == ["1.0", "2"]
    # Missing text for an offered language is refused.
    assert owner.post(url, {"consent_en": "Only English"}).status_code == 422

    second, token2 = enrol("en")
    client.logout()
    # The language is chosen first, then the consent of the current version.
    assert client.get(reverse("survey:entry", args=[token2])).url == reverse(
        "survey:language", args=[token2]
    )
    page = client.get(reverse("survey:consent", args=[token2])).content.decode()
    assert "Please agree. (v2)" in page
    # A participant who consented to 1.0 is asked again before any further answer.
    from fibrosurvey.web.participants.models import Participant
    from fibrosurvey.web.survey.rules import write_refusal

    invitation = (
        Participant.objects.get(pk=participant.pk)
        .invitations.select_related("participant__study")
        .get()
    )
    assert write_refusal(invitation, staff_entry=True).reason == "consent"
    answer_survey(
        client, token2, {"mood_low": "0", "mood_sleep": "2", "mood_energy": "1"} | PEG, second
    )
    versions = dict(
        DatasetBuilder(own_study).frame().select("participant_id", "consent_version").iter_rows()
    )
    assert versions == {participant.study_code: "1.0", second.study_code: "2"}


def test_events_schedule_and_battery_and_an_answered_instrument_stays(
    client, login, own_study, enrol
):
    owner = login("alice")
    added = owner.post(
        reverse("builder:events", args=[own_study.pk]),
        {
            "code": "followup_1m",
            "label_en": "One month",
            "day_offset": "30",
            "window_days": "14",
            "reminder_days": "7, 3",
        },
    )
    event = own_study.events.get(code="followup_1m")
    assert added.url == reverse("builder:event", args=[own_study.pk, event.pk])
    assert (event.day_offset, event.window_days, event.reminder_days) == (30, 14, [3, 7])
    url = reverse("builder:event", args=[own_study.pk, event.pk])
    body = {"label_en": "One month", "day_offset": "30", "window_days": "14", "reminder_days": "7"}
    assert owner.post(url, body | {"battery": "mood\nnosuch"}).status_code == 409
    assert owner.post(url, body | {"battery": "peg\nmood"}).status_code == 302
    assert event.instrument_ids() == ["peg", "mood"]
    assert owner.post(url, body | {"battery": "mood", "reminder_days": "20"}).status_code == 409

    participant, token = enrol("en")
    answer_survey(
        client, token, {"mood_low": "0", "mood_sleep": "2", "mood_energy": "1"} | PEG, participant
    )
    baseline = own_study.events.get(code="baseline")
    owner = login("alice")
    refused = owner.post(
        reverse("builder:event", args=[own_study.pk, baseline.pk]),
        {"label_en": "Baseline", "day_offset": "0", "window_days": "0", "battery": "peg"},
    )
    assert refused.status_code == 409 and "mood has answers at baseline" in refused.content.decode()
    assert baseline.instrument_ids() == ["mood", "peg"]


def test_staff_enter_a_paper_form_with_a_reason_through_the_same_write_path(
    client, login, own_study, enrol, users
):
    participant, token = enrol("en")
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    coordinator = login("carol")
    url = reverse("survey_staff:enter", args=[own_study.pk, participant.pk, "baseline", 1])
    assert coordinator.get(url).status_code == 200
    no_reason = coordinator.post(url, {"mood_low": "1", "nonce": "s1"})
    assert no_reason.status_code == 422 and not Response.objects.exists()
    saved = coordinator.post(url, {"mood_low": "1", "nonce": "s2", "reason": "paper form of 3 May"})
    assert saved.status_code == 302
    page2 = reverse("survey_staff:enter", args=[own_study.pk, participant.pk, "baseline", 2])
    invalid = coordinator.post(
        page2, {"mood_howlow": "11", "mood_sleep": "2", "nonce": "s3", "reason": "paper"}
    )
    assert invalid.status_code == 422
    coordinator.post(
        page2,
        {
            "mood_howlow": "6",
            "mood_sleep": "2",
            "mood_energy": "0",
            "nonce": "s4",
            "reason": "paper",
        },
    )
    response = Response.objects.get(instrument_id="mood")
    assert response.answers == {"mood_low": 1, "mood_howlow": 6, "mood_sleep": 2, "mood_energy": 0}
    records = AuditRecord.objects.filter(object_type="survey.response").order_by("pk")
    assert [r.actor.username for r in records] == ["carol", "carol"]
    assert records.first().after["staff_entry_reason"] == "paper form of 3 May"


def test_staff_entry_is_refused_without_the_participants_current_consent(login, own_study, enrol):
    participant, _token = enrol("en")
    url = reverse("survey_staff:enter", args=[own_study.pk, participant.pk, "baseline", 1])
    refused = login("carol").post(url, {"mood_low": "1", "nonce": "s1", "reason": "paper"})
    assert refused.status_code == 422 and "consent" in refused.content.decode()
    assert not Response.objects.exists()


def test_the_safety_contact_is_on_the_safety_page_and_in_the_alert_email(
    client, login, own_study, enrol
):
    from types import SimpleNamespace

    from django.template.loader import render_to_string
    from django.utils import timezone

    login("alice").post(
        reverse("builder:settings", args=[own_study.pk]),
        {
            "title_en": "Mood pilot",
            "languages": ["en", "es"],
            "country": "ES",
            "safety_phone": "+34 900 123 456",
            "safety_email": "safety@example.org",
            "safety_hours": "Mon-Fri 9:00-17:00",
        },
    )
    participant, token = enrol("en")
    client.logout()
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    page = client.get(reverse("survey:safety", args=[token, 2])).content.decode()
    assert 'href="tel:+34900123456"' in page
    assert "safety@example.org" in page and "Mon-Fri 9:00-17:00" in page
    own_study.refresh_from_db()
    alert = SimpleNamespace(
        study=own_study,
        participant=participant,
        event=own_study.events.get(code="baseline"),
        created_at=timezone.now(),
    )
    body = render_to_string("survey/email/safety_body.txt", {"alert": alert, "url": "x"})
    assert "Study safety contact: +34 900 123 456 safety@example.org (Mon-Fri 9:00-17:00)" in body
