"""The two-factor set-up page in real Chromium: the QR code is drawn (inline SVG) under the
site's Content-Security-Policy, with no CSP violation. Screenshot in test-output/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"


def test_the_qr_code_is_drawn_under_the_csp(live_server, browser, study):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "carol")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/accounts/2fa/setup/")

    qr = page.locator("figure.qr-code svg")
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 100 and box["height"] >= 100
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "two-factor-setup.png"), full_page=True)
    assert [text for text in console if "Content Security Policy" in text] == []
    context.close()
