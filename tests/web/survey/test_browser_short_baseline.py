"""The target participant completes the baseline on a 375 x 812 phone in real Chromium.

A man with no CBD or THC use, no headaches and no abdominal pain (issue 11 §5, "done when"):
he never sees a menopause, contraception, CBD dose, THC dose, migraine or Manning item, and
sees at most 24 question screens. On the way: every 0-10 scale is one row with its anchors at
both ends (at 375 and at 320 px), sleep quality carries the "runs the other way" cue, and the
weight typed with a decimal comma is stored as a decimal.

``complete_baseline`` is the one entry point: another language or study country is a new
parameter set (the participant's language, a study configured for the country), nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.survey.test_screen_count import MAX_SCREENS, NEVER_SHOWN_TO_THE_MAN
from tests.web.survey.walk import MAN_WITHOUT_GATED_SYMPTOMS, Persona, Walk, walk_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
PHONE = {"width": 375, "height": 812}


def complete_baseline(
    browser: Any,
    url: str,
    persona: Persona,
    *,
    language: str = "en",
    viewport: dict[str, int] = PHONE,
    on_screen: Any = None,
) -> Walk:
    """Open ``url`` (a survey link) on a phone and take the whole survey as ``persona``."""
    context = browser.new_context(viewport=viewport, locale=language)
    try:
        return walk_in_browser(
            context.new_page(), url, persona, language=language, on_screen=on_screen
        )
    finally:
        context.close()


def _scales_fit_on_one_row(page: Any) -> list[str]:
    """Problems with the 0-10 scales on this screen (wrapped rows, anchors not at the ends)."""
    problems: list[str] = []
    for scale in page.locator("fieldset.layout-scale").all():
        boxes = [option.bounding_box() for option in scale.locator("label.option").all()]
        tops = {round(box["y"]) for box in boxes}
        if len(boxes) != 11 or len(tops) != 1:
            problems.append(f"{scale.get_attribute('id')}: {len(tops)} rows")
        anchors = scale.locator(".anchors span").all()
        first, last = anchors[0].bounding_box(), anchors[1].bounding_box()
        if not (first["x"] <= boxes[0]["x"] + 1 and last["x"] + last["width"] >= boxes[-1]["x"]):
            problems.append(f"{scale.get_attribute('id')}: anchors not at both ends")
        if min(box["width"] for box in boxes) < 24 or min(box["height"] for box in boxes) < 24:
            problems.append(f"{scale.get_attribute('id')}: a target smaller than 24 px")
    return problems


@pytest.mark.parametrize("width", [375, 320])
def test_the_man_without_gated_symptoms_finishes_in_at_most_24_screens(
    live_server, browser, issued, width
):
    from fibrosurvey.web.survey.models import Response

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    study = issued.invitation.participant.study
    study.country = "ES"  # metric: the weight box takes kg, typed with a decimal comma
    study.save(update_fields=["country"])
    layout_problems: list[str] = []
    cues: list[str] = []

    def on_screen(page: Any, walk: Walk) -> None:
        layout_problems.extend(_scales_fit_on_one_row(page))
        cues.extend(page.locator(".reversed-cue").all_inner_texts())
        if width == 375 and walk.screens in (1, 7, 14):
            page.screenshot(path=str(SCREENSHOTS / f"short-{walk.screens:02d}.png"))

    walk = complete_baseline(
        browser,
        f"{live_server.url}/s/{issued.token}/",
        MAN_WITHOUT_GATED_SYMPTOMS,
        viewport={"width": width, "height": 812},
        on_screen=on_screen,
    )
    assert walk.screens <= MAX_SCREENS, walk.titles
    assert not NEVER_SHOWN_TO_THE_MAN & set(walk.seen)
    assert not [title for title in walk.titles if "Manning" in title or "FSQ" in title]
    assert layout_problems == []
    assert len(cues) == 1 and "very poor sleep" in cues[0]
    demo = Response.objects.get(participant=issued.invitation.participant, instrument_id="demo")
    assert demo.answers["demo_weight_kg"] == 81.5  # typed "81,5"
    fsq = Response.objects.get(participant=issued.invitation.participant, instrument_id="fsq")
    ticked = {column for column, value in fsq.answers.items() if value == 1}
    assert ticked >= MAN_WITHOUT_GATED_SYMPTOMS.ticked
    assert fsq.answers["fsq_neck"] == 0 and fsq.scores["fsq_acr2016"] is not None


def test_switching_language_keeps_what_is_ticked(live_server, browser, issued):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{issued.token}/")
    page.get_by_label("English").check()
    page.get_by_role("button", name="Continue").click()
    # Consent: tick, switch to Spanish, the box is still ticked and the text is Spanish.
    page.get_by_label("I have read the information above").check()
    page.get_by_role("button", name="Español").click()
    assert page.locator("h1").inner_text() == "Información y consentimiento"
    assert page.get_by_label("He leído la información anterior").is_checked()
    page.get_by_role("button", name="Continuar").click()
    # A survey page: tick two pain sites, switch to English, both still ticked.
    page.get_by_label("Cuello").check()
    page.get_by_label("Parte baja de la espalda (zona lumbar)").check()
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text().startswith("Where you have pain")
    assert page.get_by_label("Neck").is_checked()
    assert page.get_by_label("Lower back").is_checked()
    assert not page.get_by_label("Chest").is_checked()
    context.close()


def test_a_blank_fsq_answer_gets_a_kind_prompt_not_a_lost_score(live_server, browser, issued):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{issued.token}/")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("I have read the information above").check()
    page.get_by_role("button", name="Continue").click()
    assert "You can leave a question blank" not in page.content()
    assert "needs every answer to be counted" in page.locator(".every-answer").inner_text()
    page.get_by_role("button", name="Next").click()  # the tick-list: unticked is an answer
    page.wait_for_url("**/page/2/")
    page.get_by_role("button", name="Next").click()  # three blanks: refused, kindly
    prompts = page.locator(".error").all_inner_texts()
    assert len(prompts) == 3
    assert all("needs every answer to be counted" in prompt for prompt in prompts)
    assert page.locator(".error-summary").is_visible()
    context.close()
