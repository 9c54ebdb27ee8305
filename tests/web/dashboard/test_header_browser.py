"""The staff header at 1280 px, in real Chromium: everything an owner sees on a study page
(the longest header) and "Log out" stays on the first line; the study's pages fit one line.
Screenshot in test-output/screenshots/staff-header-1280.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"


def test_log_out_sits_on_the_first_line_of_the_staff_header_at_1280_px(live_server, browser, study):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/studies/{study.pk}/")

    header = page.locator("header.staff-header")
    brand = page.locator("header.staff-header .brand").bounding_box()
    logout = page.get_by_role("button", name="Log out").bounding_box()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    header.screenshot(path=str(SCREENSHOTS / "staff-header-1280.png"))
    for name in ("API tokens", "Study security", "Security", "API docs", "Safety cases"):
        assert page.get_by_role("link", name=name, exact=True).is_visible(), name
    # The owner's study pages (the longest row) do not wrap at 1280 px.
    nav_links = page.locator("header.staff-header nav a")
    tops = {round(nav_links.nth(i).bounding_box()["y"]) for i in range(nav_links.count())}
    assert nav_links.count() >= 9 and len(tops) == 1, tops

    assert brand is not None and logout is not None
    # Same line: the button's vertical middle lies within the brand's line box.
    middle = logout["y"] + logout["height"] / 2
    assert brand["y"] <= middle <= brand["y"] + brand["height"], (brand, logout)
    assert logout["x"] + logout["width"] <= 1280
    context.close()
