"""A participant on a phone, in Spanish, takes the whole baseline in real Chromium.

Consent, language, every page skip logic shows, closing the page halfway and resuming from
the same link, a validation message next to the field, PHQ-9 item 9 = 1 and the safety page,
the thank-you page; then the stored scores must equal the core's ``score_response`` of the
same answers.
Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import re
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


def take_survey(current, pages, answer_for, on_page=None, after_page=None):
    """Answer every page the survey shows, in order, as a participant would (Spanish buttons).

    ``current()`` is the browser page (it may be replaced by ``after_page``). Returns the given
    answers per instrument (only items shown) and the item columns shown, in order.
    """
    answers: dict[str, dict[str, int | float | None]] = {}
    seen: list[str] = []
    screens = 0
    while (found := re.search(r"/page/(\d+)/$", current().url)) is not None:
        page = current()
        number = int(found.group(1))
        survey_page = pages[number - 1]
        # "Página N de M": N counts the screens shown; M leaves out pages skip logic has hid.
        screens += 1
        shown = re.fullmatch(r"Página (\d+) de (\d+)", page.locator(".progress-text").inner_text())
        assert shown is not None and int(shown.group(1)) == screens
        assert screens <= int(shown.group(2)) <= len(pages)
        for item in survey_page.items:
            if page.locator(f'[name="{item.column}"]').count() == 0:
                continue  # hidden by skip logic
            seen.append(item.column)
            value = answer_for(item)
            answers.setdefault(survey_page.instrument.id, {})[item.column] = value
            if value is None:
                continue
            if survey_page.display == "checklist":
                if value == 1:  # a tick-list: an unticked box is stored as 0
                    page.locator(f'label.option:has(input[name="{item.column}"])').click()
                continue
            if item.kind == "choice":
                page.locator(
                    f'label.option:has(input[name="{item.column}"][value="{value}"])'
                ).click()
            else:
                page.locator(f'input[name="{item.column}"]').fill(str(value))
        if on_page is not None:
            on_page(survey_page, number)
        before = page.url
        page.get_by_role("button", name=re.compile("^(Siguiente|Terminar)$")).click()
        page.wait_for_url(lambda url, before=before: url != before)
        page.wait_for_load_state("load")
        if after_page is not None:
            after_page(survey_page, number)
    return answers, seen


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
    from fibrosurvey.web.participants.enrolment import do_enrol_participant
    from fibrosurvey.web.participants.invitations import do_issue_invitation

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
    study.country = "ES"  # a study in Spain: centimetres, kilograms, 024 and 112
    study.save(update_fields=["country"])
    link = f"{live_server.url}/s/{token}/"
    pages = page_plan(study.events.get(code="baseline").instrument_ids(), "ES")
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="es-ES")
    page = context.new_page()

    def shot(name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    # Language first (Spanish is preselected), then the consent in it.
    page.goto(link)
    assert page.get_by_label("Español").is_checked()
    shot("01-language")
    page.get_by_role("button", name="Continuar").click()
    assert page.locator("h1").inner_text() == "Información y consentimiento"
    shot("02-consent")
    page.get_by_role("button", name="Continuar").click()
    assert "marque la casilla" in page.locator(".error-summary").inner_text()
    assert "marque la casilla" in page.locator(".error").inner_text()
    page.get_by_label("He leído la información anterior").check()
    page.get_by_role("button", name="Continuar").click()

    halfway = len(pages) // 2
    resumed = False

    def on_page(survey_page, number: int) -> None:
        nonlocal page, resumed
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

    def after_page(survey_page, number: int) -> None:
        nonlocal page, resumed
        if "phq9_9" in survey_page.columns:
            assert page.locator("h1").inner_text() == "Si necesita ayuda ahora"
            assert "024" in page.content()
            shot("05-safety")
            page.get_by_role("link", name="Continuar con la encuesta").click()
        if number >= halfway and not resumed:
            # The participant closes the page once the next one has loaded, and comes back
            # later with the same link. (Closing mid-navigation could hang page.close().)
            resumed = True
            page.wait_for_url(re.compile(r".*/page/\d+/$"))
            page.wait_for_load_state("load")
            where = page.url
            page.close()
            page = context.new_page()
            page.goto(link)
            assert page.url == where
            shot("07-resumed")

    answers, _ = take_survey(lambda: page, pages, _answer_for, on_page, after_page)
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


GATED = {
    "demo_menopause",
    "demo_hormonal_contraception",
    "tx_cbd_mg_day",
    "tx_cbd_days_week",
    "tx_thc_mg_day",
    "tx_thc_days_week",
    "tx_cannabis_days_since",
    *(f"migraine_{n}" for n in range(1, 4)),
    *(f"ibs_{n}" for n in range(1, 7)),
}
NO_TO_EVERY_GATE = {
    "demo_sex": 2,  # male
    "tx_cbd_product": 0,
    "tx_thc_use": 0,
    "tx_cannabis_recreational": 0,
    "migraine_headaches": 0,
    "ibs_abdominal_pain": 0,
    "phq9_9": 0,
}


def test_man_without_cannabis_headaches_or_abdominal_pain_never_sees_the_gated_questions(
    live_server, browser, spanish_participant, study
):
    participant, token = spanish_participant
    pages = page_plan(study.events.get(code="baseline").instrument_ids())
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="es-ES")
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{token}/")
    page.get_by_role("button", name="Continuar").click()  # Spanish, preselected
    page.get_by_label("He leído la información anterior").check()
    page.get_by_role("button", name="Continuar").click()

    def answer(item) -> int | float | None:
        if item.column in NO_TO_EVERY_GATE:
            return NO_TO_EVERY_GATE[item.column]
        return _answer_for(item) if item.column not in LEFT_BLANK else None

    _, seen = take_survey(lambda: page, pages, answer)

    assert page.locator("h1").inner_text() == "Gracias"
    context.close()
    assert not GATED & set(seen)
    assert set(NO_TO_EVERY_GATE) <= set(seen)
    stored = {r.instrument_id: r for r in Response.objects.filter(participant=participant)}
    for response in stored.values():
        assert response.status == "complete", response.instrument_id
        assert not GATED & set(response.answers), response.instrument_id
    # Not applicable is not missing where the instrument says so.
    assert stored["migraine"].scores == {"migraine_positive": 0}
    assert stored["ibs"].scores == {"ibs_count": None, "ibs_positive": 0}
    assert stored["tx"].instrument_version == "1.1.0"
