"""The open link on a phone (375 x 812) in real Chromium: an eligible visitor completes the
survey, an ineligible one sees the kind close page, a scripted bot is flagged, and a second
visit from the same device is flagged duplicate. Then the coordinator, logged in, reads the
flow counts on the recruitment page (the database's numbers), and the analyst's report shows
the same numbers in its participant-flow diagram."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from django.urls import reverse

from fibrosurvey.recruitment.quality import FLOW_STAGES
from fibrosurvey.web.analyses.models import AnalysisRun
from fibrosurvey.web.recruitment.models import QualityFlag, Visit
from fibrosurvey.web.survey.models import PageSubmission
from tests.web.conftest import PASSWORD
from tests.web.recruitment.conftest import database_flow_counts
from tests.web.survey.walk import WOMAN_WITH_EVERY_GATE_OPEN, Persona, walk_in_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(600),
    pytest.mark.django_db(transaction=True),
]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 900}
# The eligible visitor's survey answers: a woman of 52, as she told the screener.
VISITOR = Persona(
    fixed={**WOMAN_WITH_EVERY_GATE_OPEN.fixed, "demo_age": "52"},
    ticked=WOMAN_WITH_EVERY_GATE_OPEN.ticked,
)
LABEL_TO_STAGE = {label: key for key, label in FLOW_STAGES}


def _flags(visit):
    return sorted(QualityFlag.objects.filter(visit=visit).values_list("reason", flat=True))


def _answer_screener(page, *, age, country="ES"):
    page.locator("#in-age").fill(str(age))
    page.locator('label.option:has(input[name="diagnosis"][value="yes"])').click()
    page.locator('label.option:has(input[name="pain_3_months"][value="yes"])').click()
    page.locator(f'label.option:has(input[name="country"][value="{country}"])').click()
    page.locator('label.option:has(input[name="sex"][value="female"])').click()


def _as_if_read_for_a_while(visit_count):
    """A person spends time on the landing page and screener; the test does not wait."""
    visit = Visit.objects.order_by("id")[visit_count - 1]
    Visit.objects.filter(pk=visit.pk).update(visited_at=visit.visited_at - timedelta(seconds=45))


def _fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _as_if_each_page_took_a_while(invitation, seconds=20):
    """A person reads each survey page; the browser test answers at machine speed."""
    start = invitation.participant.consented_at
    for n, submission in enumerate(
        PageSubmission.objects.filter(invitation=invitation).order_by("id"), start=1
    ):
        PageSubmission.objects.filter(pk=submission.pk).update(
            submitted_at=start + timedelta(seconds=seconds * n)
        )


def _staff_enrolled_cohort(study):
    """Fieldwork before the open link: a synthetic cohort enrolled by staff, with the sampling
    design of a probability sample (the open-link recruits have none)."""
    from fibrosurvey.synth import generate
    from fibrosurvey.web.cohort import load_cohort

    cohort = generate("seed-claims", 160, 11, score=False).data
    load_cohort(study, cohort.with_columns(pl.lit("south").alias("site")))


def _log_in(browser, live_server, username):
    context = browser.new_context(viewport=DESK, locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    return context, page


def _diagram_reasons(page):
    """The quality-exclusion lines beside the diagram's last arrow ("reason: n")."""
    return [line.text_content() for line in page.locator('svg text tspan[dy="15"]').all()]


def _diagram_counts(page):
    """Stage -> number, read from the boxes of the participant-flow SVG on ``page``."""
    counts = {}
    for box in page.locator('svg text:has(tspan[font-weight="bold"])').all():
        number = box.locator('tspan[font-weight="bold"]').text_content()
        label = box.text_content().removeprefix(number).strip()
        counts[LABEL_TO_STAGE[label]] = int(number)
    return counts


def test_open_link_on_a_phone_then_the_flow_counts_for_the_coordinator_and_in_the_report(
    live_server, browser, open_link, study, monkeypatch
):
    monkeypatch.setenv("FIBROSURVEY_ANALYSIS_IN_PROCESS", "0")  # the worker runs it below
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _staff_enrolled_cohort(study)
    landing = f"{live_server.url}/r/{open_link.slug}/?src=patient-newsletter"

    # An eligible visitor: landing, screener, consent, skip contact, the survey's first page.
    person = browser.new_context(viewport=PHONE, locale="en-GB")
    page = person.new_page()
    page.goto(landing)
    _fits_the_phone(page)
    page.screenshot(path=str(SCREENSHOTS / "recruit-01-landing.png"), full_page=True)
    page.get_by_role("link", name="Start").click()
    _answer_screener(page, age=52)
    _fits_the_phone(page)
    page.screenshot(path=str(SCREENSHOTS / "recruit-02-screener.png"), full_page=True)
    _as_if_read_for_a_while(1)
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Information and consent"
    page.get_by_label("I have read the information above").check()
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Staying in touch (optional)"
    page.screenshot(path=str(SCREENSHOTS / "recruit-03-contact.png"), full_page=True)
    page.get_by_role("button", name="Skip and start the survey").click()
    page.wait_for_url("**/s/*/page/1/")
    assert page.locator(".progress-text").inner_text().startswith("Page 1 of")
    first = Visit.objects.get()
    assert first.source == "patient-newsletter" and first.participant is not None
    assert _flags(first) == []
    # ... and she takes the whole survey, tapping as on her phone, to the thank-you page.
    walk = walk_in_browser(page, page.url, VISITOR)
    assert walk.screens > 10
    baseline = first.participant.invitations.get(event__code="baseline")
    assert baseline.completed_at is not None
    _as_if_each_page_took_a_while(baseline)

    # The same phone comes back and goes through again: a duplicate device.
    page.goto(landing)
    page.get_by_role("link", name="Start").click()
    _answer_screener(page, age=52)
    _as_if_read_for_a_while(2)
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Information and consent"  # not told
    second = Visit.objects.order_by("id")[1]
    assert _flags(second) == ["duplicate_device"]
    person.close()

    # An ineligible visitor, in Spanish: the kind close page, nobody enrolled.
    minor = browser.new_context(viewport=PHONE, locale="es-ES")
    page = minor.new_page()
    page.goto(landing)
    assert page.locator("h1").inner_text() != ""
    page.get_by_role("link", name="Empezar").click()
    _answer_screener(page, age=16)
    _as_if_read_for_a_while(3)
    page.get_by_role("button", name="Continuar").click()
    assert page.locator("h1").inner_text() == "Gracias por su tiempo"
    _fits_the_phone(page)
    page.screenshot(path=str(SCREENSHOTS / "recruit-04-ineligible.png"), full_page=True)
    assert Visit.objects.order_by("id")[2].participant is None
    minor.close()

    # A scripted bot: straight to the screener, every field filled, the hidden one too.
    bot = browser.new_context(viewport=PHONE)
    page = bot.new_page()
    page.goto(landing)
    page.goto(f"{live_server.url}/r/{open_link.slug}/screener/")
    _answer_screener(page, age=30)
    page.locator("#in-website").fill("http://cheap-pills.example", force=True)
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == "Information and consent"  # not told either
    bot_visit = Visit.objects.order_by("id")[3]
    assert _flags(bot_visit) == ["honeypot", "too_fast"]
    # It consents and fills in the whole survey at machine speed, with the visitor's answers.
    page.get_by_label("I have read the information above").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Skip and start the survey").click()
    page.wait_for_url("**/s/*/page/1/")
    walk_in_browser(page, page.url, VISITOR)
    bot.close()

    # The coordinator, logged in, opens the recruitment page from the study's menu.
    coordinator, page = _log_in(browser, live_server, "carol")
    page.goto(f"{live_server.url}{reverse('dashboard:study', args=[study.pk])}")
    page.get_by_role("link", name="Open recruitment").click()
    assert page.locator("h1").inner_text() == "Open recruitment"
    expected = database_flow_counts(study)
    shown = {
        stage.get_attribute("data-stage"): int(stage.locator(".big").inner_text())
        for stage in page.locator("li.flow-stage").all()
    }
    assert shown == expected
    # The child was not eligible, the second visit from her phone did not consent, and the
    # bot's completed survey is set aside by the quality exclusion: one analysed.
    assert expected == {
        "visited": 4,
        "screened": 4,
        "eligible": 3,
        "enrolled": 3,
        "consented": 2,
        "started": 2,
        "completed": 2,
        "analysed": 1,
    }
    assert "1 of 2 participants were excluded for response quality" in page.content()
    assert _diagram_counts(page) == expected
    reasons = _diagram_reasons(page)
    assert reasons == ["duplicate_answers: 1", "honeypot: 1", "too_fast: 1"]  # the bot's
    page.screenshot(path=str(SCREENSHOTS / "recruit-05-coordinator-flow.png"), full_page=True)
    coordinator.close()

    # The analyst runs the analysis from the analyses page; the worker processes it.
    analyst, page = _log_in(browser, live_server, "anna")
    page.goto(f"{live_server.url}{reverse('analyses:index', args=[study.pk])}")
    page.get_by_role("button", name="Run analysis").click()
    call_command("run_analysis_jobs", "--once")
    run = AnalysisRun.objects.get(study=study)
    assert run.status == "done", run.error
    # The staff-enrolled cohort has a sampling design, the open-link recruit has none.
    assert "participant(s) joined through the open recruitment link" in run.notes
    page.goto(f"{live_server.url}{reverse('analyses:report', args=[study.pk, run.pk])}")
    diagram = page.locator("svg", has_text="Participant flow")
    diagram.scroll_into_view_if_needed()
    assert _diagram_counts(page) == expected == database_flow_counts(study)
    assert _diagram_reasons(page) == reasons
    diagram.screenshot(path=str(SCREENSHOTS / "recruit-06-report-flow-diagram.png"))
    analyst.close()
