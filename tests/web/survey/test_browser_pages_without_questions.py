"""In real Chromium on a phone-sized screen: the safety page's phone numbers are tappable
tel: links, and neither it nor the thank-you page offers a "Skip to the questions" link.
Screenshots go to test-output/screenshots/ (look at them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"


def test_safety_and_done_pages_on_a_phone(live_server, browser, issued, study):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    study.safety_contact = {"en": "Study team: call 900 123 456 (weekdays 9:00-17:00)."}
    study.save(update_fields=["safety_contact"])
    link = f"{live_server.url}/s/{issued.token}/"
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="en-GB")
    page = context.new_page()
    page.goto(link)
    page.get_by_label("I have read the information above").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # English is preselected

    page.goto(f"{link}safety/2/")
    page.keyboard.press("Tab")
    first_focus = page.evaluate("document.activeElement.textContent")
    page.screenshot(path=str(SCREENSHOTS / "safety-tel-links.png"), full_page=True)
    assert page.get_by_role("link", name="Skip to the questions").count() == 0
    assert "Skip" not in first_focus
    # A US study (the default country): 911 and 988, and the study's own number.
    for number, href in (("911", "tel:911"), ("988", "tel:988"), ("900 123 456", "tel:900123456")):
        number_link = page.get_by_role("link", name=number, exact=True)
        assert number_link.is_visible()
        assert number_link.get_attribute("href") == href

    issued.invitation.completed_at = timezone.now()
    issued.invitation.save(update_fields=["completed_at"])
    page.goto(f"{link}done/")
    page.keyboard.press("Tab")
    page.screenshot(path=str(SCREENSHOTS / "done-no-skip-link.png"), full_page=True)
    assert page.locator("h1").inner_text() == "Thank you"
    assert page.get_by_role("link", name="Skip to the questions").count() == 0
    context.close()
