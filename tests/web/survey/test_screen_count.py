"""What the baseline costs a participant: screens, questions and taps (issue 11 §5).

The target participant (a man, no CBD or THC use, no headaches, no abdominal pain) sees at
most 24 question screens and never a question skip logic should hide. The figures are
printed (run with ``-s``) and written to test-output/screen_counts.json for the note.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.web.survey.walk import (
    MAN_WITHOUT_GATED_SYMPTOMS,
    WOMAN_WITH_EVERY_GATE_OPEN,
    walk_with_client,
)

OUTPUT = Path(__file__).resolve().parents[3] / "test-output" / "screen_counts.json"
# What the target participant must never be shown: menopause and contraception, CBD and THC
# doses, days since cannabis use, the migraine screener, the Manning criteria.
NEVER_SHOWN_TO_THE_MAN = {
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
MAX_SCREENS = 24


def test_the_man_without_gated_symptoms_sees_at_most_24_screens(client, issued):
    walk = walk_with_client(client, issued.token, MAN_WITHOUT_GATED_SYMPTOMS)
    print(f"\nbaseline, man without gated symptoms: {walk.summary()} (+{walk.steps} steps)")
    print("page N of M:", walk.progress)
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(
        json.dumps(
            {
                "persona": "man, no CBD/THC, no headaches, no abdominal pain",
                "screens": walk.screens,
                "questions": walk.questions,
                "taps": walk.taps,
                "consent_and_language_screens": walk.steps,
                "titles": walk.titles,
            },
            indent=2,
        )
    )
    assert not NEVER_SHOWN_TO_THE_MAN & set(walk.seen)
    assert "demo_sex" in walk.seen and "tx_cbd_product" in walk.seen
    assert walk.screens <= MAX_SCREENS, walk.titles
    # "Page N of M" counts the screens he is asked: 1, 2, ... and "of 23" at the end, never
    # the pages skip logic hid from him.
    assert [n for n, _ in walk.progress] == list(range(1, walk.screens + 1))
    assert walk.progress[-1] == (walk.screens, walk.screens)
    # Plain titles, and no "part 1 of 3" where skip logic hides the other parts.
    assert "Your stomach and bowels" in walk.titles and "Your headaches" in walk.titles
    # No instrument acronyms or criteria names for participants.
    assert not [t for t in walk.titles if "Manning" in t or "(" in t.split(" (part")[0]]


def test_a_woman_with_every_gate_open_is_asked_the_gated_questions(client, issued):
    walk = walk_with_client(client, issued.token, WOMAN_WITH_EVERY_GATE_OPEN)
    print(f"\nbaseline, woman with every gate open: {walk.summary()} (+{walk.steps} steps)")
    assert NEVER_SHOWN_TO_THE_MAN - {"tx_cannabis_days_since"} <= set(walk.seen)
