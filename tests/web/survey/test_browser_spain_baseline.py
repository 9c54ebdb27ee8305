"""Done when (issue 11): the baseline in Spanish, on a phone, for a study in Spain.

A man with no CBD or THC use, no headaches and no abdominal pain completes the baseline at
375 x 812 in real Chromium. He never sees a menopause, contraception, CBD dose, THC dose,
migraine or Manning (IBS) item; "¿Dónde vive?" offers Spain's 19 autonomous communities and
cities, not US divisions; height and weight are asked in centimetres and kilograms; the safety
page is not reached (PHQ-9 item 9 = 0). The walker reads each screen's questions from the page
itself (``fieldset`` ids), so it answers what is shown, whatever the page plan says.
"""

from __future__ import annotations

import re
import zlib

import pytest

from fibrosurvey.countries import get_country
from fibrosurvey.instruments import INSTRUMENT_ORDER
from fibrosurvey.instruments.localize import for_country
from fibrosurvey.web.survey.models import Response

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NEVER_SHOWN = re.compile(
    r"^(demo_menopause|demo_hormonal_contraception|tx_cbd_mg_day|tx_cbd_days_week|"
    r"tx_thc_mg_day|tx_thc_days_week|migraine_\d|ibs_\d)$"
)
ANSWERS = {
    "demo_sex": 2,  # male
    "tx_cbd_product": 0,  # no CBD
    "tx_thc_use": 0,  # no THC
    "tx_cannabis_recreational": 0,
    "migraine_headaches": 0,  # no headaches
    "ibs_abdominal_pain": 0,  # no abdominal pain or discomfort
    "phq9_9": 0,
    "demo_age": 58,
    "demo_height_cm": 176,
    "demo_weight_kg": 82.5,
    "demo_region": 113,  # Comunidad de Madrid
}
ITEMS = {
    item.column: item
    for instrument_id in INSTRUMENT_ORDER
    for item in for_country(instrument_id, "ES").items
}


def _answer(column: str) -> int | float:
    if column in ANSWERS:
        return ANSWERS[column]
    item = ITEMS[column]
    spread = zlib.crc32(column.encode())
    if item.kind == "choice":
        return item.codes[spread % len(item.codes)]
    low = int(item.minimum or 0)
    return low + spread % 5


@pytest.fixture
def spanish_man_in_spain(study, users):
    from fibrosurvey.web.participants.enrolment import do_enrol_participant
    from fibrosurvey.web.participants.invitations import do_issue_invitation

    study.country = "ES"
    study.save(update_fields=["country"])
    participant = do_enrol_participant(
        study,
        site=study.sites.get(code="north"),
        actor=users["carol"],
        language="es",
        email="javier@example.org",
    )
    issued = do_issue_invitation(participant, study.events.get(code="baseline"), send=False)
    return participant, issued.token


def test_a_man_in_spain_completes_the_baseline_in_spanish_without_gated_questions(
    live_server, browser, spanish_man_in_spain
):
    participant, token = spanish_man_in_spain
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="es-ES")
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{token}/")
    # Consent and the language screen, in whichever order the survey shows them.
    while not re.search(r"/page/\d+/$", page.url):
        if page.get_by_label("He leído la información anterior").count():
            page.get_by_label("He leído la información anterior").check()
        elif page.get_by_label("Español").count():
            page.get_by_label("Español").check()
        else:
            raise AssertionError(f"unexpected screen before the questions: {page.url}")
        page.get_by_role("button", name="Continuar").click()
        page.wait_for_load_state("load")

    seen: list[str] = []
    region_labels: list[str] = []
    screens = 0
    while re.search(r"/page/\d+/$", page.url):
        screens += 1
        assert screens <= 60, "the survey does not end"
        columns = [
            fid.removeprefix("q-")
            for fid in page.locator("fieldset[id^='q-']").evaluate_all("els => els.map(e => e.id)")
        ]
        if columns == ["checklist"]:  # the pain-site tick-list: tick the sites answered 1
            boxes = page.locator("#q-checklist input[type=checkbox]")
            for column in boxes.evaluate_all("els => els.map(e => e.name)"):
                seen.append(column)
                if _answer(column) == 1:
                    page.locator(f'label:has(input[name="{column}"])').click()
            columns = []
        for column in columns:
            seen.append(column)
            value = _answer(column)
            if column == "demo_region":
                region_labels = page.locator("#q-demo_region label.option").all_inner_texts()
            if ITEMS[column].kind == "choice":
                page.locator(f'label:has(input[name="{column}"][value="{value}"])').click()
            else:
                page.locator(f'input[name="{column}"]').fill(str(value))
        before = page.url
        page.get_by_role("button", name=re.compile("^(Siguiente|Terminar)$")).click()
        page.wait_for_url(lambda url, before=before: url != before)
        page.wait_for_load_state("load")
        assert "/safety/" not in page.url
        assert not page.locator(".error").count(), page.locator(".error").all_inner_texts()

    assert page.locator("h1").inner_text() == "Gracias"
    context.close()

    assert [c for c in seen if NEVER_SHOWN.match(c)] == []
    assert set(ANSWERS) <= set(seen)
    spain = [region.label["es"] for region in get_country("ES").regions]
    assert [label.strip() for label in region_labels] == spain
    assert "Andalucía" in region_labels[0] and "Melilla" in region_labels[-1]
    assert not any("Nueva Inglaterra" in label for label in region_labels)
    print(f"Spanish man in Spain: {screens} question screens, {len(seen)} questions")
    # The issue's target for this participant: at most 24 question screens (23 measured).
    assert screens <= 24

    stored = {r.instrument_id: r for r in Response.objects.filter(participant=participant)}
    assert all(r.status == "complete" for r in stored.values())
    demo = stored["demo"].answers
    assert (demo["demo_region"], demo["demo_height_cm"], demo["demo_weight_kg"]) == (113, 176, 82.5)
    assert "demo_menopause" not in demo
    assert stored["migraine"].scores == {"migraine_positive": 0}
