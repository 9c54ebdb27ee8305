"""Walk a survey link as a scripted participant and count what it costs them.

One walker, two drivers: :func:`walk_with_client` (Django's test client, fast) and
:func:`walk_in_browser` (Playwright + Chromium, what a phone shows). Both read the form the
page really renders (its inputs), answer from a :class:`Persona`, and count:

- ``screens``: question pages shown (consent and language are counted apart, as ``steps``);
- ``questions``: questions shown on them (a tick-list of 19 sites counts 19);
- ``taps``: one per radio answer, per ticked box, per number field (focus; keys not
  counted), per Next/Finish press; consent and language add their own taps.

``seen`` lists the item columns shown, in order, so a test can assert what a participant
never sees. To add a language or a study country, pass ``language`` (the one the participant
picks) and enrol the participant in a study configured for that country: the walk itself
needs nothing else.

Measure (before/after figures in the issue note):
``PYTHONPATH=$PWD/src python -m pytest tests/web/survey/test_screen_count.py -q -s``
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

__all__ = [
    "MAN_WITHOUT_GATED_SYMPTOMS",
    "WOMAN_WITH_EVERY_GATE_OPEN",
    "Persona",
    "Walk",
    "walk_in_browser",
    "walk_with_client",
]


@dataclass(frozen=True)
class Persona:
    """Fixed answers by column; any other question gets a varied, valid answer."""

    fixed: Mapping[str, Any]
    # Tick-list items (0/1 boxes) ticked: every other box stays unticked.
    ticked: frozenset[str] = frozenset()

    def answer(self, column: str, kind: str, values: list[str], bounds: tuple[str, str]) -> Any:
        if column in self.fixed:
            return self.fixed[column]
        spread = zlib.crc32(column.encode())
        if kind == "radio":
            return values[spread % len(values)]
        low, high = float(bounds[0] or 0), float(bounds[1] or 10)
        return int(low + spread % (int(high - low) + 1))


# The target participant: a man, no CBD or THC use, no headaches, no abdominal pain.
MAN_WITHOUT_GATED_SYMPTOMS = Persona(
    fixed={
        "demo_sex": "2",
        "demo_age": "52",
        "demo_height_cm": "178",
        "demo_weight_kg": "81,5",  # a decimal comma, as many participants type it
        # A US study asks feet and inches, and pounds (stored in cm and kg).
        "demo_height_cm__ft": "5",
        "demo_height_cm__in": "10",
        "demo_weight_kg__lb": "180",
        "tx_cbd_product": "0",
        "tx_thc_use": "0",
        "tx_cannabis_recreational": "0",
        "migraine_headaches": "0",
        "ibs_abdominal_pain": "0",
        "fsq_headache": "0",
        "fsq_abdominal": "0",
        "phq9_9": "0",  # no safety page in this walk
        **{f"fsq_{site}": "0" for site in ("neck", "jaw_l", "jaw_r", "chest", "abdomen")},
    },
    ticked=frozenset(
        {"fsq_shoulder_l", "fsq_shoulder_r", "fsq_upperback", "fsq_lowerback", "fsq_hip_l"}
    ),
)

# Every gate open: a woman using CBD and THC, with headaches and abdominal pain.
WOMAN_WITH_EVERY_GATE_OPEN = Persona(
    fixed={
        "demo_sex": "1",
        "demo_age": "47",
        "demo_height_cm": "164",
        "demo_weight_kg": "71.5",
        "demo_height_cm__ft": "5",
        "demo_height_cm__in": "5",
        "demo_weight_kg__lb": "158",
        "tx_cbd_product": "2",
        "tx_thc_use": "1",
        "tx_cannabis_recreational": "0",
        "migraine_headaches": "1",
        "ibs_abdominal_pain": "1",
        "phq9_9": "0",
    },
    ticked=MAN_WITHOUT_GATED_SYMPTOMS.ticked | {"fsq_neck", "fsq_lowerleg_l", "fsq_lowerleg_r"},
)


@dataclass
class Walk:
    screens: int = 0
    questions: int = 0
    taps: int = 0
    steps: int = 0  # consent and language screens
    seen: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    # "Page N of M" as each screen showed it, as (N, M).
    progress: list[tuple[int, int]] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.screens} screens, {self.questions} questions, {self.taps} taps"


@dataclass
class _Input:
    name: str
    type: str
    values: list[str] = field(default_factory=list)
    bounds: tuple[str, str] = ("", "")


class _FormReader(HTMLParser):
    """The question inputs of a survey page (in order), and its <h1> text."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, _Input] = {}
        self.title = ""
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "h1":
            self._in_h1 = True
        if tag != "input" or found.get("type") in ("hidden", "submit"):
            return
        name = found.get("name", "")
        if not name or name in ("csrfmiddlewaretoken", "nonce"):
            return
        entry = self.inputs.setdefault(
            name,
            _Input(
                name, found.get("type", "text"), [], (found.get("min", ""), found.get("max", ""))
            ),
        )
        if entry.type in ("radio", "checkbox"):
            entry.values.append(found.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.title += data


def read_form(html: str) -> tuple[str, list[_Input]]:
    reader = _FormReader()
    reader.feed(html)
    return " ".join(reader.title.split()), list(reader.inputs.values())


def _plan_page(persona: Persona, inputs: list[_Input]) -> tuple[dict[str, str], int]:
    """The form data a participant sends for one page, and the taps it took (Next included)."""
    data: dict[str, str] = {}
    taps = 1  # Next / Finish
    for entry in inputs:
        if entry.type == "checkbox":
            if entry.name in persona.ticked:
                data[entry.name] = entry.values[0]
                taps += 1
            continue
        answer = persona.answer(entry.name, entry.type, entry.values, entry.bounds)
        if answer is None:
            continue
        data[entry.name] = str(answer)
        taps += 1
    return data, taps


_PAGE_URL = re.compile(r"/page/(\d+)/$")


def walk_with_client(client: Any, token: str, persona: Persona, *, language: str = "en") -> Walk:
    """Take the whole survey behind ``token`` with Django's test client."""
    walk = Walk()
    response = client.get(f"/s/{token}/", follow=True)
    for _ in range(200):
        path = response.request["PATH_INFO"]
        html = response.content.decode()
        if path.endswith("/consent/") or path.endswith("/language/"):
            walk.steps += 1
            walk.taps += 2  # tick or choose, then Continue
            data = {"agree": "yes"} if path.endswith("/consent/") else {"language": language}
            if path.endswith("/consent/") and 'name="language"' in html:
                data["language"] = language
                walk.taps += 1
            response = client.post(path, data, follow=True)
            continue
        if _PAGE_URL.search(path) is None:
            break
        assert response.status_code == 200, (path, response.status_code, html[:2000])
        title, inputs = read_form(html)
        walk.screens += 1
        walk.titles.append(title)
        shown = re.search(r'class="progress-text">\w+ (\d+) \w+ (\d+)<', html)
        if shown is not None:
            walk.progress.append((int(shown.group(1)), int(shown.group(2))))
        walk.questions += len(inputs)
        walk.seen += [entry.name for entry in inputs]
        data, taps = _plan_page(persona, inputs)
        walk.taps += taps
        nonce = re.search(r'name="nonce" value="([^"]+)"', html)
        assert nonce is not None
        response = client.post(
            path, {**data, "nonce": nonce.group(1), "action": "next"}, follow=True
        )
    else:
        raise AssertionError("the survey did not end within 200 screens")
    assert response.request["PATH_INFO"].endswith("/done/"), response.request["PATH_INFO"]
    return walk


def walk_in_browser(
    page: Any,
    url: str,
    persona: Persona,
    *,
    language: str = "en",
    on_screen: Callable[[Any, Walk], None] | None = None,
) -> Walk:
    """Take the whole survey at ``url`` in a Playwright page, tapping as a participant would.

    ``on_screen(page, walk)`` runs on each question screen once it is answered (screenshots,
    layout checks).
    """
    walk = Walk()
    page.goto(url)
    for _ in range(200):
        path = page.url
        if path.endswith("/consent/") or path.endswith("/language/"):
            walk.steps += 1
            if page.locator(f'input[name="language"][value="{language}"]').count():
                page.locator(f'label:has(input[name="language"][value="{language}"])').click()
                walk.taps += 1
            if page.locator('input[name="agree"]').count():
                page.locator('label:has(input[name="agree"])').click()
                walk.taps += 1
            _submit(page, 'button[type="submit"].primary')
            walk.taps += 1
            continue
        if _PAGE_URL.search(path) is None:
            break
        title, inputs = read_form(page.content())
        walk.screens += 1
        walk.titles.append(title)
        walk.questions += len(inputs)
        walk.seen += [entry.name for entry in inputs]
        data, taps = _plan_page(persona, inputs)
        walk.taps += taps
        for entry in inputs:
            if entry.name not in data:
                continue
            if entry.type in ("radio", "checkbox"):
                page.locator(
                    f'label:has(input[name="{entry.name}"][value="{data[entry.name]}"])'
                ).click()
            else:
                page.locator(f'input[name="{entry.name}"]').fill(data[entry.name])
        if on_screen is not None:
            on_screen(page, walk)
        _submit(page, 'button[name="action"][value="next"]')
    else:
        raise AssertionError("the survey did not end within 200 screens")
    assert page.url.endswith("/done/"), page.url
    return walk


def _submit(page: Any, selector: str) -> None:
    before = page.url
    page.locator(selector).click()
    page.wait_for_url(lambda url: url != before)
    page.wait_for_load_state("load")
