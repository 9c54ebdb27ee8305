"""The coordinator's day in real Chromium at 1280 px: the participant list filtered by
status, a safety case moved on with a note, and the dashboard's pictures drawn within the
CSP (no violation reported). Screenshots in test-output/screenshots/coordinator-*.png."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.survey.models import Response, SafetyAlert, SafetyAlertNote
from tests.web.conftest import PASSWORD
from tests.web.participants.test_participant_list import _one_of_each

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(180),
    pytest.mark.django_db(transaction=True),
]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"


@pytest.fixture
def day(study, participant, participant_south):
    made = _one_of_each(study)
    now = timezone.now()
    for i, p in enumerate(Participant.objects.filter(study=study)):
        Participant.objects.filter(pk=p.pk).update(enrolled_at=now - timedelta(days=10 - i))
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
    alert = SafetyAlert.objects.create(
        study=study, participant=participant, event=event, response=response, value=2
    )
    return made, alert


def test_the_coordinators_day_in_the_browser(live_server, browser, study, day):
    made, alert = day
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "carol")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/studies/{study.pk}/participants/?event=baseline")
    chips = page.locator(".status-filter")
    assert "overdue 1" in " ".join(chips.inner_text().split())
    page.screenshot(path=str(SCREENSHOTS / "coordinator-participants.png"), full_page=True)
    chips.get_by_role("link", name="overdue").click()
    rows = page.locator("main table tbody tr")
    assert rows.count() == 1 and made["overdue"] in rows.first.inner_text()
    assert "overdue" in rows.first.locator(".badge").first.inner_text()

    page.goto(f"{live_server.url}/studies/{study.pk}/")
    page.get_by_role("link", name="Open case").click()
    assert page.get_by_text("More than half the days").is_visible()
    assert page.locator('a[href="tel:+34900123456"]').is_visible()
    page.select_option("#id_status", "contacted")
    page.fill("#id_note", "Phoned; safe, seeing their GP tomorrow.")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("Safety case updated.").is_visible()
    assert page.locator(".history").get_by_text("open → contacted").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "coordinator-safety-case.png"), full_page=True)
    assert SafetyAlertNote.objects.get(alert=alert).status_after == "contacted"

    page.goto(f"{live_server.url}/studies/{study.pk}/")
    charts = page.locator("figure.chart svg")
    assert charts.count() == 3
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("#chart-enrolment-site polyline").count() == 2  # north and south
    page.locator(".charts").screenshot(path=str(SCREENSHOTS / "coordinator-charts.png"))
    assert violations == []
    context.close()
