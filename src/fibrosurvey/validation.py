"""The one validator: tables and single responses checked against the instrument definitions.

It is used by the CLI, by imports and by the web app. It reports every problem, never only the
first, each naming the row, the column, the bad value and the allowed values. Nothing is
clipped or coerced: a missing answer is empty, and anything else must be an allowed value.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from fibrosurvey.instruments import Instrument, Item, get_instrument, load_instruments
from fibrosurvey.instruments.localize import for_country
from fibrosurvey.instruments.logic import SkipLogic, gate_columns, skip_logic
from fibrosurvey.problems import Problem

__all__ = [
    "Problem",
    "ValidationReport",
    "cell_reason",
    "validate_frame",
    "validate_frame_with",
    "validate_response",
]


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    rows_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_row(self) -> dict[int | None, list[Problem]]:
        grouped: dict[int | None, list[Problem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.row, []).append(problem)
        return grouped


def _as_text(column: pl.Series) -> pl.Series:
    if column.dtype == pl.String:
        return column.str.strip_chars()
    return column.cast(pl.String)


def _parsed(item: Item) -> list[pl.Expr]:
    """Whether each cell holds an answer, and its value as a number (null if not one)."""
    text = pl.col(item.column).cast(pl.String).str.strip_chars()
    return [
        (text.is_not_null() & (text != "")).alias(f"{item.column}.present"),
        text.cast(pl.Float64, strict=False).alias(f"{item.column}.number"),
        text.alias(f"{item.column}.text"),
    ]


def _reason(item: Item) -> pl.Expr:
    """Per row: why the cell is not an allowed answer to ``item``, or null when it is fine."""
    present = pl.col(f"{item.column}.present")
    number = pl.col(f"{item.column}.number")
    if item.kind == "text":
        return pl.lit(None, dtype=pl.String).alias(item.column)
    if item.kind == "date":
        text = pl.col(f"{item.column}.text")
        parsed = text.str.to_date("%Y-%m-%d", strict=False)
        bad = present & (parsed.is_null() | ~text.str.contains(r"^\d{4}-\d{2}-\d{2}$"))
        return (
            pl.when(bad).then(pl.lit(NOT_A_DATE)).otherwise(pl.lit(None, dtype=pl.String))
        ).alias(item.column)
    reason = (
        pl.when(~present)
        .then(pl.lit(None, dtype=pl.String))
        .when(number.is_null() | number.is_nan())
        .then(pl.lit("not a number"))
    )
    if item.kind == "choice":
        codes = [float(code) for code in item.codes]
        reason = reason.when(~number.is_in(codes)).then(pl.lit("not one of the answer codes"))
    else:
        if item.kind == "integer":
            reason = reason.when(number != number.floor()).then(pl.lit("not a whole number"))
        reason = reason.when((number < item.minimum) | (number > item.maximum)).then(
            pl.lit("out of range")
        )
    return reason.alias(item.column)


# Unicode White_Space, which polars' ``strip_chars()`` removes; Python's ``str.strip()`` would
# also remove the separators \x1c-\x1f, which are characters here.
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


NOT_A_DATE = "not a date YYYY-MM-DD"


def _iso_date(text: str) -> bool:
    if len(text) != 10 or not text.isascii() or text[4] != "-" or text[7] != "-":
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _number(text: str) -> float | None:
    """``text`` as polars' non-strict string-to-Float64 cast reads it (None if not a number)."""
    # Python's float() also accepts digit separators and non-ASCII digits; polars does not.
    if not text.isascii() or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def cell_reason(item: Item, value: object) -> str | None:
    """Why one cell is not an allowed answer to ``item``, or None when it is fine.

    The single-cell twin of the vectorised check in :func:`validate_frame` (same reasons, same
    parsing; a property test holds them together), for validating one response without
    building a table.
    """
    if value is None:
        return None
    text = str(value).strip(_WHITESPACE)
    if text == "" or item.kind == "text":
        return None
    if item.kind == "date":
        return None if _iso_date(text) else NOT_A_DATE
    number = _number(text)
    if number is None or math.isnan(number):
        return "not a number"
    if item.kind == "choice":
        return (
            None
            if number in {float(code) for code in item.codes}
            else "not one of the answer codes"
        )
    if item.kind == "integer" and math.isfinite(number) and not number.is_integer():
        return "not a whole number"
    below = item.minimum is not None and number < item.minimum
    above = item.maximum is not None and number > item.maximum
    return "out of range" if below or above else None


NOT_APPLICABLE = "not asked: skip logic hides this question given the answers to"


def _hidden_message(item: Item) -> str:
    gates = ", ".join(dict.fromkeys(gate_columns(item))) or "its enable_when_expression"
    return f"{NOT_APPLICABLE} {gates}"


def _instrument_prefixes(instruments: Iterable[Instrument]) -> dict[str, Instrument]:
    return {f"{instrument.id}_": instrument for instrument in instruments}


def validate_frame(
    frame: pl.DataFrame, instruments: Iterable[str] | None = None
) -> ValidationReport:
    """Check every item column of ``frame`` against its definition.

    Columns that belong to no instrument (ids, design, biomarkers) are left to their own
    validators. A column that looks like an item of a known instrument but is not one
    (``phq9_10``) is reported, since it is almost always a typo that would silently drop data.
    """
    selected = (
        list(load_instruments().values())
        if instruments is None
        else [get_instrument(instrument_id) for instrument_id in instruments]
    )
    return validate_frame_with(frame, selected)


def validate_frame_with(
    frame: pl.DataFrame, selected: Iterable[Instrument], *, hidden_answers: bool = True
) -> ValidationReport:
    """:func:`validate_frame` with the given definitions (a study's own, imported ones).

    ``hidden_answers=False`` leaves out the check that items hidden by skip logic are empty
    (data from another system, e.g. REDCap, which keeps a value its branching later hides).
    """
    selected = list(selected)
    report = ValidationReport(rows_checked=frame.height)
    known: dict[str, Item] = {}
    scores: set[str] = set()
    for instrument in selected:
        known.update({item.column: item for item in instrument.items})
        scores.update(instrument.score_columns())
    prefixes = _instrument_prefixes(selected)
    checked = [column for column in frame.columns if column in known]
    # Every column is checked in one query; only columns with problems are looked at again.
    parsed = frame.lazy().select([e for column in checked for e in _parsed(known[column])])
    reasons = parsed.select([_reason(known[column]) for column in checked]).collect()
    for column in checked:
        flagged = reasons[column]
        if flagged.null_count() == frame.height:
            continue
        positions = flagged.is_not_null().arg_true()
        values = _as_text(frame[column]).gather(positions)
        report.problems += [
            Problem(int(position) + 1, column, str(value), known[column].allowed(), str(reason))
            for position, value, reason in zip(
                positions.to_list(),
                values.to_list(),
                flagged.gather(positions).to_list(),
                strict=True,
            )
        ]
    if hidden_answers:
        report.problems += _hidden_answers(frame, selected, checked)
    for column in frame.columns:
        if column in known or column in scores or column == "scoring_versions":
            continue
        if column.endswith("_status") and column.removesuffix("_status") in known:
            continue  # the analysts' status column beside an item (scoring.status)
        for prefix, instrument in prefixes.items():
            if column.startswith(prefix):
                report.problems.append(
                    Problem(
                        None,
                        column,
                        column,
                        ", ".join(instrument.item_columns()),
                        f"not an item of {instrument.id}",
                    )
                )
    return report


def _hidden_answers(
    frame: pl.DataFrame, selected: list[Instrument], checked: list[str]
) -> list[Problem]:
    """Answers to items that skip logic makes not applicable (gates read from ``frame``).

    Only where the gate is answered: a table may hold responses to an earlier version that
    asked everyone (its gate column is empty), whose answers stay valid.
    """
    logic = SkipLogic(selected)
    gated = [column for column in checked if column in logic.gated]
    if not gated:
        return []
    numbers = frame.select(
        [
            pl.col(column).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
            for column in {*frame.columns} & ({*logic.items} | {*checked})
        ]
    )
    hidden = logic.not_applicable_expressions(numbers.columns)
    flags = numbers.select(
        [(hidden[column] & pl.col(column).is_not_null()).alias(column) for column in gated]
    )
    problems: list[Problem] = []
    for column in gated:
        positions = flags[column].arg_true().to_list()
        values = _as_text(frame[column]).gather(positions).to_list() if positions else []
        item = logic.items[column]
        problems += [
            Problem(position + 1, column, str(value), "empty", _hidden_message(item))
            for position, value in zip(positions, values, strict=True)
        ]
    return problems


def validate_response(
    answers: Mapping[str, Any],
    instrument_id: str,
    required: Iterable[str] = (),
    *,
    context: Mapping[str, Any] | None = None,
    battery: Iterable[str] = (),
    refuse: Literal["disabled", "not_applicable"] = "disabled",
    country: str | None = None,
) -> ValidationReport:
    """Check one participant's answers to one instrument (keys are item columns).

    ``required`` names item columns that must be answered (for a survey page); a missing
    answer is otherwise allowed, since scoring rules decide what missing means. An answer to
    an item that skip logic hides is refused; ``context`` holds the participant's other answers
    in the same event (any instrument, by column) and ``battery`` the event's other instrument
    ids, so a gate in another instrument is read too. ``refuse="not_applicable"`` refuses only
    answers whose gate is answered (as :func:`validate_frame` does, for data from elsewhere or
    from an earlier version); the survey refuses every answer to a question it did not ask.
    ``country`` (a study's) narrows the answers to those asked there (its own regions).
    """
    instrument = (
        get_instrument(instrument_id) if country is None else for_country(instrument_id, country)
    )
    report = ValidationReport(rows_checked=1)
    columns = set(instrument.item_columns())
    for key in answers:
        if key not in columns:
            report.problems.append(
                Problem(
                    None, key, str(answers[key]), ", ".join(sorted(columns)), "unknown question"
                )
            )
    items = {item.column: item for item in instrument.items}
    for column, value in answers.items():
        item = items.get(column)
        reason = cell_reason(item, value) if item is not None else None
        if item is not None and reason is not None:
            shown = str(value).strip(_WHITESPACE)
            report.problems.append(Problem(None, column, shown, item.allowed(), reason))
    seen = {**(context or {}), **answers}
    # Cached per battery: this runs on every page a participant submits.
    logic = skip_logic(dict.fromkeys([instrument_id, *battery]))
    hidden = logic.disabled_columns(seen) if refuse == "disabled" else logic.not_applicable(seen)
    for column in hidden:
        value = answers.get(column)
        if column in items and value is not None and str(value).strip(_WHITESPACE) != "":
            shown = str(value).strip(_WHITESPACE)
            report.problems.append(
                Problem(None, column, shown, "empty", _hidden_message(items[column]))
            )
    for column in required:
        if str(answers.get(column) or "").strip() == "":
            item = next(item for item in instrument.items if item.column == column)
            report.problems.append(Problem(None, column, "", item.allowed(), "an answer is needed"))
    return report
