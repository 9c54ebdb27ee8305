"""Why an item cell is empty: the status an analyst reads beside each numeric column.

Every item cell is one of:

- ``answered``: the numeric column holds the answer;
- ``skipped``: the participant was asked and left it blank (or skipped the gate before it);
- ``not_applicable``: skip logic hid it, given the answers to its gates (a man is not asked
  about menopause; someone without headaches gets no migraine screener);
- ``prefer_not_to_answer``: the participant chose the instrument's "prefer not to answer".

Flat files keep the numeric column, empty unless answered, and add one status column,
``<item column>_status``, for each item where the reason cannot be read from the numeric
column alone: items with skip logic and items offering "prefer not to answer"
(:func:`status_columns`). Elsewhere an empty cell always means ``skipped``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from fibrosurvey.instruments import Instrument, Item, get_instrument, load_instruments
from fibrosurvey.instruments.logic import SkipLogic

__all__ = [
    "ITEM_STATUSES",
    "STATUS_SUFFIX",
    "ItemStatus",
    "item_status_frame",
    "response_item_statuses",
    "status_columns",
    "without_not_sure",
    "without_prefer_not_to_answer",
]

ITEM_STATUSES = ("answered", "skipped", "not_applicable", "prefer_not_to_answer")
ItemStatus = pl.Enum(list(ITEM_STATUSES))
STATUS_SUFFIX = "_status"


def _needs_status(item: Item) -> bool:
    return item.gated or bool(item.prefer_not_to_answer_codes)


def status_columns(instrument: Instrument) -> list[str]:
    """The status columns a flat file of ``instrument`` carries (see the module docstring)."""
    return [f"{item.column}{STATUS_SUFFIX}" for item in instrument.items if _needs_status(item)]


def _selected(instruments: Iterable[str] | None) -> list[Instrument]:
    if instruments is None:
        return list(load_instruments().values())
    return [get_instrument(instrument_id) for instrument_id in instruments]


def item_status_frame(
    frame: pl.DataFrame, instruments: Iterable[str] | None = None, *, every_item: bool = False
) -> pl.DataFrame:
    """Status columns for the item columns of ``frame`` (a wide table, one row per response).

    Skip logic across instruments is applied where the gate's column is in ``frame``; a gate
    column absent from the table leaves its items applicable (older versions asked everyone).
    ``every_item`` adds a status column for every item, not only the gated ones.
    """
    selected = [
        instrument
        for instrument in _selected(instruments)
        if any(column in frame.columns for column in instrument.item_columns())
    ]
    logic = SkipLogic(selected)
    not_applicable = logic.not_applicable_expressions(frame.columns)
    expressions: list[pl.Expr] = []
    for instrument in selected:
        for item in instrument.items:
            if item.column not in frame.columns or not (every_item or _needs_status(item)):
                continue
            value = pl.col(item.column)
            refused = value.cast(pl.Float64).is_in(
                [float(code) for code in item.prefer_not_to_answer_codes]
            )
            hidden = not_applicable.get(item.column, pl.lit(False))
            status = (
                pl.when(refused)
                .then(pl.lit("prefer_not_to_answer"))
                .when(value.is_not_null())
                .then(pl.lit("answered"))
                .when(hidden)
                .then(pl.lit("not_applicable"))
            )
            expressions.append(
                status.otherwise(pl.lit("skipped"))
                .cast(ItemStatus)
                .alias(f"{item.column}{STATUS_SUFFIX}")
            )
    return frame.select(expressions)


def without_prefer_not_to_answer(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with "prefer not to answer" codes emptied: numeric columns hold answers only."""
    changes = [
        pl.when(pl.col(item.column).cast(pl.Float64).is_in(codes))
        .then(None)
        .otherwise(pl.col(item.column))
        .alias(item.column)
        for instrument in load_instruments().values()
        for item in instrument.items
        if item.column in frame.columns
        and (codes := [float(code) for code in item.prefer_not_to_answer_codes])
    ]
    return frame.with_columns(changes) if changes else frame


def without_not_sure(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with "not sure" codes emptied, for analysis: "not sure" is neither yes nor no,
    so a complete-case analysis leaves the answer out and multiple imputation imputes it. The
    exports keep the code (it is an answer, and not a "no")."""
    changes = [
        pl.when(pl.col(item.column).cast(pl.Float64).is_in(codes))
        .then(None)
        .otherwise(pl.col(item.column))
        .alias(item.column)
        for instrument in load_instruments().values()
        for item in instrument.items
        if item.column in frame.columns and (codes := [float(code) for code in item.not_sure_codes])
    ]
    return frame.with_columns(changes) if changes else frame


def response_item_statuses(
    answers: Mapping[str, Any], instrument_ids: Iterable[str]
) -> dict[str, str]:
    """The single-response twin of :func:`item_status_frame` (every item, by column)."""
    selected = _selected(instrument_ids)
    not_applicable = SkipLogic(selected).not_applicable(answers)
    statuses: dict[str, str] = {}
    for instrument in selected:
        for item in instrument.items:
            value = answers.get(item.column)
            if value is not None and value != "":
                refused = float(value) in {float(c) for c in item.prefer_not_to_answer_codes}
                statuses[item.column] = "prefer_not_to_answer" if refused else "answered"
            elif item.column in not_applicable:
                statuses[item.column] = "not_applicable"
            else:
                statuses[item.column] = "skipped"
    return statuses
