"""The page plan of a survey: each event's battery split into the instruments' own pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache, cached_property
from typing import Any

from fibrosurvey.countries import DEFAULT_COUNTRY
from fibrosurvey.instruments import Instrument, Item
from fibrosurvey.instruments.extra import definition_key, instrument_id_of
from fibrosurvey.instruments.localize import for_country
from fibrosurvey.instruments.logic import SkipLogic, gate_columns, skip_logic

__all__ = ["SurveyPage", "battery_logic", "next_shown", "page_plan", "progress", "shown"]


@dataclass(frozen=True)
class SurveyPage:
    index: int  # 0-based position in the whole survey
    instrument: Instrument
    part: int  # 1-based page within the instrument
    parts: int  # pages the instrument has
    items: tuple[Item, ...]
    # The study's country: its regions and wording are in ``instrument``; units follow it too.
    country: str = DEFAULT_COUNTRY

    @property
    def columns(self) -> list[str]:
        return [item.column for item in self.items]

    @property
    def is_last_of_instrument(self) -> bool:
        return self.part == self.parts

    @property
    def counts_parts(self) -> bool:
        """Whether the heading says "part 2 of 3": not when skip logic may hide some parts (a
        participant shown one of three parts would wait for two that never come)."""
        return self.parts > 1 and not any(item.gated for item in self.instrument.items)

    @property
    def display(self) -> str:
        """How the page is shown: "questions", or "checklist" (one tick-list of yes/no)."""
        return self.instrument.page_display(self.part - 1)

    @property
    def every_answer_needed(self) -> bool:
        """Whether a blank here makes the instrument's scores impossible (the FSQ)."""
        return self.instrument.all_items_required

    @cached_property
    def gated(self) -> bool:
        """Whether skip logic may hide items of this page (asked on every request)."""
        return any(item.gated for item in self.items)


@cache
def _plan(definition_keys: tuple[str, ...], country: str) -> tuple[SurveyPage, ...]:
    pages: list[SurveyPage] = []
    for key in definition_keys:
        instrument = for_country(instrument_id_of(key), country)
        groups = instrument.page_groups()
        for part, items in enumerate(groups, start=1):
            pages.append(
                SurveyPage(len(pages), instrument, part, len(groups), tuple(items), country)
            )
    return tuple(pages)


def page_plan(
    instrument_ids: list[str] | tuple[str, ...], country: str = DEFAULT_COUNTRY
) -> tuple[SurveyPage, ...]:
    """Pages in order for a battery (instrument ids in battery order) in a study's country."""
    return _plan(tuple(definition_key(i) for i in instrument_ids), country)


def battery_logic(pages: tuple[SurveyPage, ...]) -> SkipLogic:
    """The skip logic of the instruments a page plan shows (gates may be in any of them)."""
    return skip_logic(dict.fromkeys(page.instrument.id for page in pages))


def shown(page: SurveyPage, disabled: set[str] | frozenset[str]) -> SurveyPage:
    """``page`` with only the items skip logic asks, given the disabled item columns."""
    if not disabled.intersection(page.columns):
        return page
    return replace(page, items=tuple(i for i in page.items if i.column not in disabled))


def next_shown(
    pages: tuple[SurveyPage, ...],
    start: int,
    step: int,
    answers: Callable[[], Mapping[str, Any]],
) -> int:
    """The first page index from ``start`` (moving by ``step``) with an item to ask.

    Past the last page is ``len(pages)`` (finished); before the first, 0. ``answers`` gives
    the event's answers; it is called only when a page has skip logic (most have none).
    """
    disabled: set[str] | None = None
    index = start
    while 0 <= index < len(pages) and pages[index].gated:
        if disabled is None:
            disabled = battery_logic(pages).disabled_columns(answers())
        if not disabled.issuperset(pages[index].columns):
            break
        index += step
    return min(max(index, 0), len(pages))


def progress(
    pages: tuple[SurveyPage, ...], current: int, answers: Mapping[str, Any]
) -> tuple[int, int]:
    """ "Page N of M" as the participant lives it: (N, M) among the pages they are asked.

    A page before ``current`` counts only if it was asked (skip logic did not hide all of it);
    a later page drops out only once the answers to its gates hide it, so M shrinks as the
    gates are answered (a man reads "of 23" once he has said he is a man, never "of 30" to the
    end) and never counts a page out before its gate is answered.
    """
    if not any(page.gated for page in pages):
        return current + 1, len(pages)
    disabled = battery_logic(pages).disabled_columns(answers)

    def dropped(page: SurveyPage) -> bool:
        if not page.gated or not disabled.issuperset(page.columns):
            return False
        gates = {column for item in page.items for column in gate_columns(item)}
        return page.index < current or all(column in answers for column in gates)

    asked = [page.index for page in pages if page.index == current or not dropped(page)]
    return asked.index(current) + 1, len(asked)
