"""The page plan of a survey: each event's battery split into the instruments' own pages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fibrosurvey.instruments import Instrument, Item, get_instrument

__all__ = ["SurveyPage", "page_plan"]


@dataclass(frozen=True)
class SurveyPage:
    index: int  # 0-based position in the whole survey
    instrument: Instrument
    part: int  # 1-based page within the instrument
    parts: int  # pages the instrument has
    items: tuple[Item, ...]

    @property
    def columns(self) -> list[str]:
        return [item.column for item in self.items]

    @property
    def is_last_of_instrument(self) -> bool:
        return self.part == self.parts


@cache
def _plan(instrument_ids: tuple[str, ...]) -> tuple[SurveyPage, ...]:
    pages: list[SurveyPage] = []
    for instrument_id in instrument_ids:
        instrument = get_instrument(instrument_id)
        groups = instrument.page_groups()
        for part, items in enumerate(groups, start=1):
            pages.append(SurveyPage(len(pages), instrument, part, len(groups), tuple(items)))
    return tuple(pages)


def page_plan(instrument_ids: list[str] | tuple[str, ...]) -> tuple[SurveyPage, ...]:
    """Pages in order for a battery (instrument ids in battery order)."""
    return _plan(tuple(instrument_ids))
