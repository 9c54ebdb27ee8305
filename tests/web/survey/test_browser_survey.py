"""A participant on a phone, in Spanish, takes the whole baseline in real Chromium.

Consent, language, all 31 pages, closing the page halfway and resuming from the same link,
a validation message next to the field, PHQ-9 item 9 = 1 and the safety page, the thank-you
page; then the stored scores must equal the core's ``score_response`` of the same answers.
Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from fibrosurvey.scoring import score_response
from fibrosurvey.web.survey.models import Response, SafetyAlert
from fibrosurvey.web.survey.pages import page_plan

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
# Items left blank on purpose: scoring must treat them as missing (GAD-7 prorates one).
LEFT_BLANK = {"gad7_3", "tx_thc_mg_day"}
PLAUSIBLE = {"demo_age": 47, "demo_height_cm": 164, "demo_weight_kg": 71.5}


def _answer_for(item) -> int | float | None:
    """A fixed, varied answer per item (same every run)."""
    if item.column in LEFT_BLANK:
        return None
    if item.column == "phq9_9":
        return 1
    if item.column in PLAUSIBLE:
        return PLAUSIBLE[item.column]
    spread = zlib.crc32(item.column.encode())
    if item.kind == "choice":
        codes = [o.code for o in item.options]
        return codes[spread % len(codes)]
    low, high = int(item.minimum), int(item.maximum)
    return low + spread % (min(high, low + 10) - low + 1)


@pytest.fixture
def spanish_participant(study, users):
    from fibrosurvey.web.participants.services import do_enrol_participant, do_issue_invitation

    participant = do_enrol_participant(
        study,
        site=study.sites.get(code="south"),
        actor=users["sam"],
        language="es",
        email="lucia@example.org",
    )
    issued = do_issue_invitation(participant, study.events.get(code="baseline"), send=False)
    return participant, issued.token


def test_spanish_participant_completes_the_baseline_on_a_phone(
    live_server, browser, spanish_participant, study
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    participant, token = spanish_participant
    link = f"{live_server.url}/s/{token}/"
    pages = page_plan(study.events.get(code="baseline").instrument_ids())
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="es-ES")
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    # Consent, in Spanish from the first screen.
    page.goto(link)
    assert page.locator("h1").inner_text() == "Información y consentimiento"
    shot("01-consent")
    page.get_by_role("button", name="Continuar").click()
    assert "marque la casilla" in page.locator(".error").inner_text()
    page.get_by_label("He leído la información anterior").check()
    page.get_by_role("button", name="Continuar").click()

    # Language choice: Spanish is preselected.
    assert page.get_by_label("Español").is_checked()
    shot("02-language")
    page.get_by_role("button", name="Continuar").click()

    answers: dict[str, dict[str, int | float | None]] = {}
    halfway = len(pages) // 2
    for survey_page in pages:
        number = survey_page.index + 1
        assert page.locator(".progress-text").inner_text() == f"Página {number} de {len(pages)}"
        for item in survey_page.items:
            value = _answer_for(item)
            answers.setdefault(survey_page.instrument.id, {})[item.column] = value
            if value is None:
                continue
            if item.kind == "choice":
                page.locator(
                    f'label.option:has(input[name="{item.column}"][value="{value}"])'
                ).click()
            else:
                page.locator(f'input[name="{item.column}"]').fill(str(value))
        if survey_page.instrument.id == "demo" and survey_page.part == 1:
            # A mistyped age: the message appears next to the field, in Spanish.
            page.locator('input[name="demo_age"]').fill("7")
            page.get_by_role("button", name="Siguiente").click()
            error = page.locator("#err-demo_age")
            assert error.inner_text() == "Por favor, escriba un número entero entre 18 y 110."
            shot("06-validation-error")
            page.locator('input[name="demo_age"]').fill(str(PLAUSIBLE["demo_age"]))
        if number == 1:
            shot("03-first-page")
        if survey_page.instrument.id == "fiqr" and survey_page.part == 1:
            shot("04-scale-page")
        button = "Terminar" if number == len(pages) else "Siguiente"
        page.get_by_role("button", name=button).click()

        if "phq9_9" in survey_page.columns:
            assert page.locator("h1").inner_text() == "Si necesita ayuda ahora"
            assert "024" in page.content()
            shot("05-safety")
            page.get_by_role("link", name="Continuar con la encuesta").click()

        if number == halfway:
            # The participant closes the page once the next one has loaded, and comes back
            # later with the same link. (Closing mid-navigation could hang page.close().)
            page.wait_for_url(f"**/page/{halfway + 1}/")
            page.wait_for_load_state("load")
            page.close()
            page = context.new_page()
            page.goto(link)
            assert page.url.endswith(f"/page/{halfway + 1}/")
            shot("07-resumed")

    assert page.locator("h1").inner_text() == "Gracias"
    shot("08-done")
    assert "puntuación" not in page.content().lower()
    context.close()

    stored = {r.instrument_id: r for r in Response.objects.filter(participant=participant)}
    assert set(stored) == set(answers)
    for instrument_id, given in answers.items():
        response = stored[instrument_id]
        assert response.status == "complete"
        assert response.answers == given
        assert response.scores == score_response(given, instrument_id)
    assert stored["phq9"].answers["phq9_9"] == 1
    assert SafetyAlert.objects.filter(participant=participant, value=1).count() == 1
    assert stored["gad7"].scores["gad7_total"] is not None  # prorated over 6 answered items
