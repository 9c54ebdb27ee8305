"""The owner builds a study of their own in real Chromium, and a participant takes it.

Create a study; set its title, languages and safety contact; change the consent twice;
import the team's REDCap data dictionary (branching logic, a checkbox) through the preview;
put it in the
baseline battery beside the built-in PEG. A participant then sees the new title and consent,
answers it (skip logic shown live), and the owner's CSV export has the new columns.
Screenshots go to test-output/screenshots/ (look at them).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl
import pytest

from fibrosurvey.web.studies.models import Study
from tests.web.builder.conftest import DATA
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"


def test_owner_builds_a_study_and_a_participant_takes_it(live_server, browser, users):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"builder-{name}.png"), full_page=True)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/studies/new/")
    page.get_by_label("Study name").fill("Mood pilot 2027")
    page.get_by_role("button", name="Create study").click()
    study = Study.objects.get(name="Mood pilot 2027")

    # Settings: title per language, languages, country, safety contact (from the study's nav).
    page.get_by_role("link", name="Settings", exact=True).first.click()
    page.get_by_label("Title (English)").fill("Mood and pain pilot")
    page.get_by_label("Title (Spanish)").fill("Piloto de ánimo y dolor")
    page.get_by_label("Description (English)").fill("Two short questionnaires.")
    page.get_by_label("Country").select_option("ES")
    page.get_by_label("Safety contact phone").fill("+34 900 123 456")
    page.get_by_label("Safety contact e-mail").fill("safety@example.org")
    page.get_by_label("Safety contact hours").fill("Mon-Fri 9:00-17:00")
    page.get_by_role("button", name="Save").click()
    assert "Study settings saved." in page.locator(".messages").inner_text()
    assert page.get_by_label("Spanish", exact=True).is_checked()
    study.refresh_from_db()
    assert (study.country, study.safety_phone) == ("ES", "+34 900 123 456")
    shot("01-settings")

    # Consent: a change is a new version; a second change another.
    page.get_by_role("link", name="Consent", exact=True).click()
    page.get_by_label("Consent text (English)").fill("We ask about your mood. Version two.")
    page.get_by_label("Consent text (Spanish)").fill("Le preguntamos por su ánimo. Versión dos.")
    page.get_by_role("button", name="Save as a new version").click()
    assert "Consent version 2 saved" in page.locator(".messages").inner_text()
    page.get_by_label("Consent text (English)").fill("We ask about your mood and pain. Version 3.")
    page.get_by_role("button", name="Save as a new version").click()
    assert "Consent version 3 saved" in page.locator(".messages").inner_text()
    shot("02-consent")

    # The team's REDCap data dictionary (BOM, curly quote, branching logic, a checkbox, an
    # identifier, a calc REDCap computes with if()): upload, preview, save.
    page.get_by_role("link", name="Instruments", exact=True).first.click()
    page.get_by_label("File format").select_option("redcap")
    page.locator('input[name="upload"]').set_input_files(str(DATA / "sleep_diary.csv"))
    page.get_by_role("button", name="Preview").click()
    assert "Preview of sleep_diary.csv" in page.locator("h1").inner_text()
    preview = page.locator("table.items").inner_text()
    assert "sleepdiary_aids___1" in preview and "sleepdiary_woke = 1" in preview
    assert "sleepdiary_aids___1 = 1" in preview and "sleepdiary_woke != 0" in preview
    refused = page.locator("section.refusals").inner_text()
    # The partner's name (an identifier) is collected now: stored apart, encrypted.
    assert "8\trested" in refused and "sleepdiary_partner" not in refused
    shot("03-preview")
    page.get_by_role("button", name="Save").click()
    assert "Saved: sleepdiary 1.0.0." in page.locator(".messages").inner_text()

    # Baseline battery: the own instrument, then the built-in PEG.
    page.get_by_role("link", name="Events and batteries", exact=True).click()
    page.get_by_role("link", name="baseline").click()
    page.get_by_label("Battery: instrument ids in order, one per line").fill("sleepdiary\npeg")
    page.get_by_role("button", name="Save").click()
    assert "Event saved." in page.locator(".messages").inner_text()
    assert study.events.get(code="baseline").instrument_ids() == ["sleepdiary", "peg"]
    shot("04-events")

    # A participant takes it: the new title and consent, the own instrument's skip logic.
    from fibrosurvey.web.participants.enrolment import do_enrol_participant
    from fibrosurvey.web.participants.invitations import do_issue_invitation

    participant = do_enrol_participant(
        study, site=study.sites.get(), actor=users["alice"], language="en"
    )
    token = do_issue_invitation(participant, study.events.get(code="baseline"), send=False).token
    survey = context.new_page()
    survey.goto(f"{live_server.url}/s/{token}/")
    assert survey.locator(".study-name").inner_text() == "Mood and pain pilot"
    # The language first, then the consent in it.
    survey.get_by_label("English").check()
    survey.get_by_role("button", name="Continue").click()
    assert "We ask about your mood and pain. Version 3." in survey.locator("main").inner_text()
    survey.get_by_label("I have read the information above and I agree to take part.").check()
    survey.get_by_role("button", name="Continue").click()

    def choose(column: str, code: int) -> None:
        survey.locator(f'label.option:has(input[name="{column}"][value="{code}"])').click()

    assert "Did you wake up during the night?" in survey.locator("main").inner_text()
    choose("sleepdiary_woke", 1)
    choose("sleepdiary_aids___1", 1)
    choose("sleepdiary_aids___2", 0)
    choose("sleepdiary_aids___3", 0)
    survey.get_by_role("button", name="Next").click()
    # Both asked: woke = 1, and the Medicine box ticked with woke <> 0.
    survey.locator('input[name="sleepdiary_woke_times"]').fill("2")
    survey.locator('input[name="sleepdiary_med_nights"]').fill("3")
    survey.screenshot(path=str(SCREENSHOTS / "builder-05-own-instrument.png"), full_page=True)
    survey.get_by_role("button", name="Next").click()
    while re.search(r"/page/\d+/$", survey.url):
        for column in ("peg_1", "peg_2", "peg_3"):
            if survey.locator(f'input[name="{column}"]').count():
                choose(column, 4)
        before = survey.url
        survey.get_by_role("button", name=re.compile("^(Next|Finish)$")).click()
        survey.wait_for_url(lambda url, before=before: url != before)
    assert survey.url.endswith("/done/")

    # The owner's export has the new columns, with the answers, and the consent version.
    csv = page.request.get(f"{live_server.url}/studies/{study.pk}/exports/csv/")
    assert csv.status == 200
    frame = pl.read_csv(io.BytesIO(csv.body()))
    row = frame.row(0, named=True)
    own = [
        "sleepdiary_woke",
        "sleepdiary_aids___1",
        "sleepdiary_aids___2",
        "sleepdiary_aids___3",
        "sleepdiary_woke_times",
        "sleepdiary_med_nights",
    ]
    # No identifier; each gated item has its status column (both were asked and answered).
    statuses = ["sleepdiary_woke_times_status", "sleepdiary_med_nights_status"]
    assert [c for c in frame.columns if c.startswith("sleepdiary_")] == own + statuses
    assert [row[c] for c in own] == [1, 1, 0, 0, 2, 3]
    assert [row[c] for c in statuses] == ["answered", "answered"]
    assert (row["peg_1"], row["consent_version"]) == (4, 3)
    context.close()
