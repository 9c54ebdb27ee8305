"""Whether each language version of an instrument can be trusted as the published form.

Two flags in every definition say it: ``languages.<code>.validated_translation`` (a validated
translation, or the original form, exists for this language) and ``wording_verified`` (the
wording in the file has been checked against that official form). The researcher pages mark
every version that falls short, and the report's methods say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from fibrosurvey.instruments.registry import INSTRUMENT_ORDER, load_instruments
from fibrosurvey.instruments.schema import Instrument

__all__ = [
    "LanguageStatus",
    "instruments_in_columns",
    "language_status",
    "translation_in_words",
]

Status = Literal["validated", "wording_not_verified", "not_validated"]
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


@dataclass(frozen=True)
class LanguageStatus:
    instrument_id: str
    language: str
    status: Status
    note: str

    @property
    def flagged(self) -> bool:
        """Not (yet) the validated, checked wording: the researcher UI marks it."""
        return self.status != "validated"


def language_status(instrument: Instrument, language: str) -> LanguageStatus:
    """The status of one language version (a language the file lacks is not validated)."""
    info = instrument.languages.get(language)
    if info is None:
        return LanguageStatus(instrument.id, language, "not_validated", "no such language version")
    if not info.validated_translation:
        status: Status = "not_validated"
    elif not instrument.wording_verified:
        status = "wording_not_verified"
    else:
        status = "validated"
    return LanguageStatus(instrument.id, language, status, info.note)


def instruments_in_columns(columns: Iterable[str]) -> list[str]:
    """The instruments (in battery order) with an item or score column among ``columns``."""
    present = set(columns)
    instruments = load_instruments()
    return [
        instrument_id
        for instrument_id in INSTRUMENT_ORDER
        if present.intersection(instruments[instrument_id].item_columns())
        or present.intersection(instruments[instrument_id].score_columns())
    ]


def _names(ids: list[str]) -> str:
    if len(ids) == 1:
        return ids[0]
    return ", ".join(ids[:-1]) + " and " + ids[-1]


def translation_in_words(instrument_ids: Iterable[str]) -> list[str]:
    """A methods paragraph per language with versions short of a checked, validated form."""
    instruments = load_instruments()
    chosen = [instruments[i] for i in instrument_ids]
    languages = sorted({code for instrument in chosen for code in instrument.languages})
    paragraphs = []
    for language in languages:
        statuses = [language_status(instrument, language) for instrument in chosen]
        not_validated = [s.instrument_id for s in statuses if s.status == "not_validated"]
        unchecked = [s.instrument_id for s in statuses if s.status == "wording_not_verified"]
        if not (not_validated or unchecked):
            continue
        name = LANGUAGE_NAMES.get(language, language)
        parts = []
        if not_validated:
            what = (
                "is not a validated translation or published form"
                if len(not_validated) == 1
                else "are not validated translations or published forms"
            )
            parts.append(
                f"{_names(not_validated)} {what} in this language (fibrosurvey's own items or "
                "translation)"
            )
        if unchecked:
            parts.append(
                f"the wording of {_names(unchecked)} has not been checked against the "
                "official validated form, so it may differ from it"
            )
        paragraphs.append(
            f"Translation status ({name} versions): " + "; ".join(parts) + ". Results that "
            "depend on these versions may not be comparable with studies using validated forms."
        )
    return paragraphs
