"""Scoring whole tables from the instrument definitions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from fibrosurvey.instruments import Instrument, get_instrument, load_instruments
from fibrosurvey.scoring.rules import rule_expression

__all__ = ["SCORING_VERSIONS_COLUMN", "score_frame", "score_response", "scoring_provenance"]

# Every scored table carries the instrument versions that produced it, in every row, so the
# provenance survives any later filtering, joining or format conversion.
SCORING_VERSIONS_COLUMN = "scoring_versions"


def _selected(instruments: Iterable[str] | None) -> list[Instrument]:
    if instruments is None:
        return list(load_instruments().values())
    return [get_instrument(instrument_id) for instrument_id in instruments]


def _present(instrument: Instrument, columns: set[str]) -> bool:
    return any(column in columns for column in instrument.item_columns())


def _instrument_expressions(instrument: Instrument, columns: set[str]) -> list[pl.Expr]:
    scope: dict[str, pl.Expr] = {}
    for item in instrument.items:
        # An item column absent from the table (e.g. follow-up rows) is all missing.
        source = pl.col(item.column) if item.column in columns else pl.lit(None)
        scope[item.id] = source.cast(pl.Float64, strict=True)
    everything_answered = pl.all_horizontal([value.is_not_null() for value in scope.values()])
    expressions = []
    for rule in instrument.scores:
        expression = rule_expression(rule, scope)
        scope[rule.id] = expression
        if instrument.all_items_required:
            expression = pl.when(everything_answered).then(expression)
        expressions.append(expression.alias(f"{instrument.id}_{rule.id}"))
    return expressions


def scoring_provenance(instruments: Iterable[Instrument]) -> str:
    """``id@version`` of each instrument scored, e.g. ``phq9@1.0.0;gad7@1.0.0``."""
    return ";".join(f"{instrument.id}@{instrument.version}" for instrument in instruments)


def score_frame(frame: pl.DataFrame, instruments: Iterable[str] | None = None) -> pl.DataFrame:
    """Add ``<instrument>_<score>`` columns for every instrument with items in ``frame``.

    Item columns must already be valid numbers (see :func:`fibrosurvey.validation.
    validate_frame`). Existing score columns are replaced. Instruments none of whose item columns
    are present are skipped. All rows are scored at once by Polars expressions.
    """
    columns = set(frame.columns)
    scored = [instrument for instrument in _selected(instruments) if _present(instrument, columns)]
    expressions = [
        expression
        for instrument in scored
        for expression in _instrument_expressions(instrument, columns)
    ]
    if not scored:
        return frame
    provenance = pl.lit(scoring_provenance(scored)).cast(pl.Categorical)
    return frame.with_columns(*expressions, provenance.alias(SCORING_VERSIONS_COLUMN))


def score_response(answers: Mapping[str, Any], instrument_id: str) -> dict[str, Any]:
    """Scores of one participant's answers to one instrument, keyed by score column."""
    instrument = get_instrument(instrument_id)
    row = {
        column: [None if answers.get(column) in (None, "") else float(answers[column])]
        for column in instrument.item_columns()
    }
    frame = pl.DataFrame(row, schema={column: pl.Float64 for column in row})
    scored = score_frame(frame, [instrument_id])
    return {column: scored[column][0] for column in instrument.score_columns()}
