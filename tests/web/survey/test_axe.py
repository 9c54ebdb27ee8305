"""axe-core on every participant page type, in English and Spanish, at 320 and 375 px.

axe-core (the npm package, pinned in tests/web/axe/package-lock.json and installed there by
``make axe``) is injected into Debian's Chromium through Playwright; the rules are WCAG 2.0,
2.1 and 2.2 A and AA. Zero violations is the bar (issue 11 §8). The page types: consent (and
its error), the language choice, each kind of question page (yes/no pair, single choice list,
0-10 scale, the pain-site page, number entry in cm/kg and in ft-in/lb, a page with errors),
the safety page, the thank-you page, an invalid or closed link, and the open-recruitment
landing page, screener (and its errors), consent, contact and closed pages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import timezone

from fibrosurvey.web.survey.forms import page_fields
from fibrosurvey.web.survey.pages import page_plan

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

AXE = Path(__file__).resolve().parents[1] / "axe/node_modules/axe-core/axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def _signature(survey_page, language: str) -> tuple[str, ...]:
    """What a question page is made of, for picking one page of each kind."""
    fields = page_fields(survey_page, language, {}, {})
    kinds = {f"{f.layout}:{f.entry}" for f in fields}
    if len(fields) >= 10:
        kinds.add("long")  # e.g. the pain sites
    return tuple(sorted(kinds))


def _representative_pages(study, language: str) -> list[int]:
    """1-based numbers of the first baseline page of each kind in a study's country."""
    pages = page_plan(study.events.get(code="baseline").instrument_ids(), study.country)
    chosen: dict[tuple[str, ...], int] = {}
    for survey_page in pages:
        if survey_page.gated:
            continue  # may be hidden for this participant; its kinds occur elsewhere
        chosen.setdefault(_signature(survey_page, language), survey_page.index + 1)
    return sorted(chosen.values())


class Axe:
    def __init__(self, page, label: str) -> None:
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: run `make axe` (npm ci --prefix tests/web/axe)")
        self.page = page
        self.label = label
        self.checked: list[str] = []
        self.violations: dict[str, list[dict]] = {}

    def check(self, what: str) -> None:
        self.page.wait_for_load_state("load")
        self.page.add_script_tag(path=str(AXE))
        found = self.page.evaluate(RUN_AXE, WCAG_AA)
        where = f"{self.label} {what} ({self.page.url})"
        self.checked.append(where)
        if found:
            self.violations[where] = found

    def assert_clean(self) -> None:
        assert not self.violations, json.dumps(self.violations, indent=1, ensure_ascii=False)


def _participant(study, users, language: str):
    from fibrosurvey.web.participants.enrolment import do_enrol_participant
    from fibrosurvey.web.participants.invitations import do_issue_invitation

    participant = do_enrol_participant(
        study, site=study.sites.get(code="north"), actor=users["carol"], language=language
    )
    return do_issue_invitation(participant, study.events.get(code="baseline"), send=False)


def _survey_pages(axe: Axe, base: str, study, users, language: str) -> None:
    page = axe.page
    issued = _participant(study, users, language)
    link = f"{base}/s/{issued.token}/"
    consent_button = "Continue" if language == "en" else "Continuar"
    page.goto(link)
    axe.check("consent")
    page.get_by_role("button", name=consent_button).click()
    axe.check("consent with its error")
    page.locator('input[name="agree"]').check()
    page.get_by_role("button", name=consent_button).click()
    if "/language/" in page.url:
        axe.check("language choice")
        page.get_by_role("button", name=consent_button).click()
    page.wait_for_url("**/page/1/")

    for country in ("US", "ES"):  # ft-in and lb, then cm and kg
        study.country = country
        study.save(update_fields=["country"])
        for number in _representative_pages(study, language):
            page.goto(f"{link}page/{number}/")
            axe.check(f"question page {number} ({country})")

    # A page with errors: the error summary and the message next to the field.
    demo = next(
        p.index + 1
        for p in page_plan(study.events.get(code="baseline").instrument_ids(), study.country)
        if "demo_age" in p.columns
    )
    page.goto(f"{link}page/{demo}/")
    page.locator('input[name="demo_age"]').fill("7")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    assert page.locator(".error").count(), "the page with errors shows no error"
    axe.check("question page with errors")

    page.goto(f"{link}safety/2/")
    axe.check("safety page")
    issued.invitation.completed_at = timezone.now()
    issued.invitation.save(update_fields=["completed_at"])
    page.goto(f"{link}done/")
    axe.check("thank-you page")
    page.goto(f"{base}/s/not-a-real-link/")
    axe.check("invalid or closed link")


def _recruitment_pages(axe: Axe, base: str, study, users, language: str) -> None:
    from fibrosurvey.web.recruitment.services import do_open_recruitment

    page = axe.page
    link = do_open_recruitment(
        study,
        actor=users["alice"],
        slug=f"axe-{language}",
        site=study.sites.get(code="north"),
        sources=["poster"],
    )
    landing = f"{base}/r/{link.slug}/?src=poster&lang={language}"
    page.goto(landing)
    axe.check("recruitment landing")
    page.goto(f"{base}/r/{link.slug}/screener/")
    axe.check("recruitment screener")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    axe.check("recruitment screener with errors")
    page.locator("#in-age").fill("52")
    for name, value in (("diagnosis", "yes"), ("pain_3_months", "yes"), ("country", "ES")):
        page.locator(f'label.option:has(input[name="{name}"][value="{value}"])').click()
    page.locator('label.option:has(input[name="sex"][value="female"])').click()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    axe.check("recruitment consent")
    page.locator('input[name="agree"]').check()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    axe.check("recruitment contact details")
    page.goto(f"{base}/r/{link.slug}/closed/ineligible/")
    axe.check("recruitment: not eligible")
    page.goto(f"{base}/r/{link.slug}/closed/quota_full/")
    axe.check("recruitment: quota full")
    link.is_open = False
    link.save(update_fields=["is_open"])
    page.goto(landing)
    axe.check("recruitment link closed")


@pytest.mark.parametrize("width", [320, 375])
@pytest.mark.parametrize("language", ["en", "es"])
def test_participant_pages_have_no_wcag_22_aa_violations(
    live_server, browser, study, users, language, width
):
    context = browser.new_context(
        viewport={"width": width, "height": 812},
        locale="es-ES" if language == "es" else "en-US",
        bypass_csp=True,  # the pages allow no inline script; axe is injected as one
    )
    axe = Axe(context.new_page(), f"[{language} {width}px]")
    _survey_pages(axe, live_server.url, study, users, language)
    _recruitment_pages(axe, live_server.url, study, users, language)
    context.close()
    assert len(axe.checked) >= 20, axe.checked
    axe.assert_clean()


def test_axe_finds_violations_where_there_are_some(browser):
    """The harness can fail: a page without a language, a title or image text is reported."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_content('<html><body><img src="data:,"><input type="text"></body></html>')
    axe = Axe(page, "[known bad]")
    axe.check("known bad page")
    context.close()
    found = {v["id"] for v in axe.violations["[known bad] known bad page (about:blank)"]}
    assert {"html-has-lang", "document-title", "image-alt", "label"} <= found
