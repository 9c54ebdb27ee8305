"""Participant pages without questions (done, safety) promise no questions, and every phone
number a participant or staff member sees is a ``tel:`` link (one tap calls it)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.web.survey.services import survey_pages

SKIP_TO_QUESTIONS = "Skip to the questions"
SAFETY_CONTACT = {
    "en": "Study team: call 900 123 456 or +34 91 555 12 34 (weekdays 9:00-17:00).",
    "es": "Equipo del estudio: llame al 900 123 456 (laborables 9:00-17:00).",
}
# Deliberately broader than the filter under test: any run of 3+ digits, optionally with "+",
# spaces, hyphens or parentheses between them, that is not part of a clock time.
PHONE_LIKE = re.compile(r"(?<![\d:])\+?\(?\d(?:[\d()]|[ \-](?=\(?\d))*\d(?![\d:])")


class _TextOutsideTelLinks(HTMLParser):
    """Visible text that is not inside an ``<a href="tel:...">``, and every tel: href."""

    def __init__(self) -> None:
        super().__init__()
        self.outside: list[str] = []
        self.hrefs: list[str] = []
        self._in_tel = 0
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith("tel:"):
            self._in_tel += 1
            self.hrefs.append(href)
        if tag in ("script", "style", "title"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._in_tel:
            self._in_tel -= 1
        if tag in ("script", "style", "title"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_tel and not self._hidden:
            self.outside.append(data)


def _unlinked_phone_numbers(html: str) -> tuple[list[str], list[str]]:
    parser = _TextOutsideTelLinks()
    parser.feed(html)
    found = [
        m.group(0)
        for m in PHONE_LIKE.finditer(" ".join(parser.outside))
        if sum(ch.isdigit() for ch in m.group(0)) >= 3
    ]
    return found, parser.hrefs


@pytest.fixture
def started(client, issued, study):
    study.safety_contact = SAFETY_CONTACT
    study.save(update_fields=["safety_contact"])
    client.post(reverse("survey:consent", args=[issued.token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[issued.token]), {"language": "en"})
    return issued


def test_done_page_has_no_skip_to_the_questions_link(client, started):
    started.invitation.completed_at = timezone.now()
    started.invitation.save(update_fields=["completed_at"])

    done = client.get(reverse("survey:done", args=[started.token]))

    assert done.status_code == 200
    assert "Thank you" in done.content.decode()
    assert SKIP_TO_QUESTIONS not in done.content.decode()


def test_safety_page_has_no_skip_to_the_questions_link(client, started):
    safety = client.get(reverse("survey:safety", args=[started.token, 2]))

    assert safety.status_code == 200
    assert SKIP_TO_QUESTIONS not in safety.content.decode()


def test_question_pages_keep_the_skip_to_the_questions_link(client, started):
    page = client.get(reverse("survey:page", args=[started.token, 1]))

    assert page.status_code == 200
    assert survey_pages(started.invitation)[0].columns  # a page with questions
    assert SKIP_TO_QUESTIONS in page.content.decode()


# The study's country sets the numbers, whatever the participant's language (sources in
# fibrosurvey.countries): US 911 and 988; Spain 112 and 024; Mexico 911 and Línea de la Vida.
SAFETY_NUMBERS = {
    "US": {"tel:911", "tel:988"},
    "ES": {"tel:112", "tel:024"},
    "MX": {"tel:911", "tel:8009112000"},
}


@pytest.mark.parametrize("country", ["US", "ES", "MX"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_phone_number_on_the_safety_page_is_a_tel_link(client, started, language, country):
    participant = started.invitation.participant
    participant.language = language
    participant.save(update_fields=["language"])
    participant.study.country = country
    participant.study.save(update_fields=["country"])

    safety = client.get(reverse("survey:safety", args=[started.token, 2]))

    unlinked, hrefs = _unlinked_phone_numbers(safety.content.decode())
    assert unlinked == []
    # Emergency and crisis lines, and the study's own number from its safety contact; no
    # other country's lines.
    other = set().union(*SAFETY_NUMBERS.values()) - SAFETY_NUMBERS[country]
    assert SAFETY_NUMBERS[country] | {"tel:900123456"} <= set(hrefs)
    assert not other & set(hrefs)
    assert "9:00-17:00" in safety.content.decode()  # office hours stay text


def test_the_study_contact_number_with_a_country_code_keeps_its_plus(client, started):
    safety = client.get(reverse("survey:safety", args=[started.token, 2]))

    assert '<a href="tel:+34915551234">+34 91 555 12 34</a>' in safety.content.decode()


def test_participant_phone_on_the_staff_contact_page_is_a_tel_link(login, study, participant):
    page = login("carol").get(reverse("participants:contact", args=[study.pk, participant.pk]))

    assert page.status_code == 200
    unlinked, hrefs = _unlinked_phone_numbers(page.content.decode())
    assert unlinked == []
    assert hrefs == ["tel:+34600123456"]


def test_study_contact_text_is_escaped_around_its_links(client, started, study):
    study.safety_contact = {"en": "<b>Team</b> & nurses: 900 123 456"}
    study.save(update_fields=["safety_contact"])

    html = client.get(reverse("survey:safety", args=[started.token, 2])).content.decode()

    assert "&lt;b&gt;Team&lt;/b&gt; &amp; nurses: " in html
    assert '<a href="tel:900123456">900 123 456</a>' in html
