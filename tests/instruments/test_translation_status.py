"""Translation status of each language version, from the definitions' own flags."""

from __future__ import annotations

from fibrosurvey.instruments import get_instrument
from fibrosurvey.instruments.translation import (
    instruments_in_columns,
    language_status,
    translation_in_words,
)


def test_status_follows_validated_translation_then_wording_verified() -> None:
    assert language_status(get_instrument("tx"), "es").status == "not_validated"
    assert language_status(get_instrument("phq9"), "es").status == "wording_not_verified"
    verified = get_instrument("phq9").model_copy(update={"wording_verified": True})
    assert language_status(verified, "es").status == "validated"
    assert not language_status(verified, "es").flagged
    assert language_status(get_instrument("phq9"), "fr").status == "not_validated"


def test_instruments_are_found_from_item_or_score_columns() -> None:
    assert instruments_in_columns(["phq9_total", "demo_age", "aea"]) == ["phq9", "demo"]


def test_nothing_to_say_when_every_version_is_validated_and_checked() -> None:
    assert translation_in_words([]) == []
    (spanish,) = [p for p in translation_in_words(["phq9"]) if "Spanish" in p]
    assert spanish.startswith("Translation status (Spanish versions): the wording of phq9 ")
