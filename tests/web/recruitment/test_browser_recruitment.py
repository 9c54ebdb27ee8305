"""The open link on a phone (375 x 812) in real Chromium: an eligible visitor reaches the
survey, an ineligible one the kind close page, a scripted bot is flagged, and a second visit
from the same device is flagged duplicate."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from fibrosurvey.web.recruitment.models import QualityFlag, Visit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.django_db(transaction=True),
]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
PHONE = {"width": 375, "height": 812}


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


def test_open_link_on_a_phone_eligible_ineligible_bot_and_second_visit(
    live_server, browser, open_link
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
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
    bot.close()
