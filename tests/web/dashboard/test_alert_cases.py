"""Safety alerts as cases: open -> contacted -> closed, with notes, a history and audit
records; the answer in words; the participant and the study's safety contact one click away."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.survey.models import Response, SafetyAlert, SafetyAlertNote


@pytest.fixture
def alert(study, participant):
    event = study.events.get(code="baseline")
    response = Response.objects.create(
        participant=participant,
        event=event,
        instrument_id="phq9",
        instrument_version="1.0.0",
        answers={"phq9_9": 2},
    )
    study.safety_contact = {"en": "Study safety line: +34 900 123 456, day and night."}
    study.save()
    return SafetyAlert.objects.create(
        study=study, participant=participant, event=event, response=response, value=2
    )


def _case(study, alert):
    return reverse("dashboard:alert_case", args=[study.pk, alert.pk])


def test_the_case_shows_the_answer_label_not_its_code(study, alert, login):
    page = login("carol").get(_case(study, alert)).content.decode()

    assert "<strong>More than half the days</strong>" in page
    assert "Thoughts that you would be better off dead" in page


def test_the_case_links_the_participant_their_audited_contact_and_the_safety_phone(
    study, participant, alert, login
):
    page = login("carol").get(_case(study, alert)).content.decode()

    assert reverse("participants:detail", args=[study.pk, participant.pk]) in page
    assert reverse("participants:contact", args=[study.pk, participant.pk]) in page
    assert '<a href="tel:+34900123456">+34 900 123 456</a>' in page
    # The contact details are not on the case page itself: opening them is audited.
    assert "maria.lopez@example.org" not in page
    login("carol").get(reverse("participants:contact", args=[study.pk, participant.pk]))
    assert AuditRecord.objects.filter(action="view_contact", object_id=str(participant.pk)).exists()


def test_open_contacted_closed_with_notes_keeps_a_history_and_audits_each_step(study, alert, login):
    carol = login("carol")
    carol.post(_case(study, alert), {"status": "contacted", "note": "Left a voicemail."})
    carol.post(_case(study, alert), {"status": "contacted", "note": "Reached; safe tonight."})
    carol.post(_case(study, alert), {"status": "closed", "note": "Seeing GP tomorrow."})

    alert.refresh_from_db()
    steps = list(SafetyAlertNote.objects.filter(alert=alert))
    assert [(s.status_before, s.status_after) for s in steps] == [
        ("open", "contacted"),
        ("contacted", "contacted"),
        ("contacted", "closed"),
    ]
    assert [s.author_label for s in steps] == ["carol"] * 3
    assert alert.status == "closed" and alert.acknowledged_by.username == "carol"
    audits = AuditRecord.objects.filter(object_type="survey.safetyalert").order_by("at", "id")
    assert [a.action for a in audits] == ["update", "update", "acknowledge"]
    assert audits[0].before["status"] == "open" and audits[0].after["status"] == "contacted"
    assert audits[2].after["note"] == "Seeing GP tomorrow."
    page = carol.get(_case(study, alert)).content.decode()
    assert page.index("Left a voicemail.") < page.index("Seeing GP tomorrow.")
    assert "contacted → closed" in page


def test_a_step_without_a_note_or_a_new_status_is_refused(study, alert, login):
    response = login("carol").post(_case(study, alert), {"status": "open", "note": "  "})

    assert response.status_code == 400
    assert "Write a note or change the status." in response.content.decode()
    assert not SafetyAlertNote.objects.exists()


def test_a_closed_case_leaves_the_dashboards_open_list_and_stays_in_the_case_list(
    study, alert, login
):
    carol = login("carol")
    carol.post(_case(study, alert), {"status": "closed", "note": "Done."})

    dashboard = carol.get(reverse("dashboard:study", args=[study.pk])).content.decode()
    cases = carol.get(reverse("dashboard:alerts", args=[study.pk]), {"status": "closed"})

    assert "No open safety alerts." in dashboard
    assert alert.participant.study_code in cases.content.decode()


def test_a_site_limited_coordinator_cannot_open_another_sites_case(study, alert, login):
    assert login("sam").get(_case(study, alert)).status_code == 404
    listing = login("sam").get(reverse("dashboard:alerts", args=[study.pk])).content.decode()
    assert alert.participant.study_code not in listing
