"""Scoring whole tables from the instrument definitions."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from fibrosurvey.instruments import Instrument, Item, get_instrument, load_instruments
from fibrosurvey.instruments.extra import definition_key, instrument_id_of
from fibrosurvey.instruments.logic import SkipLogic
from fibrosurvey.instruments.registry import names_read_by
from fibrosurvey.scoring.rules import rule_expression

__all__ = [
    "SCORING_VERSIONS_COLUMN",
    "score_frame",
    "score_frame_with",
    "score_response",
    "scoring_provenance",
]

# Every scored table carries the instrument versions that produced it, in every row, so the
# provenance survives any later filtering, joining or format conversion.
SCORING_VERSIONS_COLUMN = "scoring_versions"


def _selected(instruments: Iterable[str] | None) -> list[Instrument]:
    if instruments is None:
        return list(load_instruments().values())
    return [get_instrument(instrument_id) for instrument_id in instruments]


def _present(instrument: Instrument, columns: set[str]) -> bool:
    return any(column in columns for column in instrument.item_columns())


def _item_value(item: Item, schema: pl.Schema) -> pl.Expr:
    column = item.column
    dtype = schema.get(column)
    if dtype is None:
        # An item column absent from the table (e.g. follow-up rows) is all missing.
        return pl.lit(None, dtype=pl.Float64)
    value = pl.col(column)
    if dtype.is_integer() and dtype != pl.Int64:
        # Narrow integers (Int8 from Parquet) would wrap around when summed and prorated.
        value = value.cast(pl.Int64)
    refused = item.prefer_not_to_answer_codes + item.not_sure_codes
    if refused:
        # "Prefer not to answer" and "not sure" are answers to store, never values to score.
        value = pl.when(~value.is_in(list(refused))).then(value)
    return value


def _items_read(instrument: Instrument, rule_id: str) -> set[str]:
    """Item ids a score reads, through the earlier scores it reads."""
    rules = {rule.id: rule for rule in instrument.scores}
    items = {item.id for item in instrument.items}
    found: set[str] = set()
    for name in names_read_by(rules[rule_id]):
        found |= {name} if name in items else _items_read(instrument, name)
    return found


def _score_layers(
    instrument: Instrument, schema: pl.Schema, not_applicable: dict[str, pl.Expr] | None = None
) -> list[pl.Expr]:
    """Expressions for one instrument's scores, one layer per rule.

    Each score becomes a column that later rules read by name, which keeps every expression
    small: inlining earlier scores would grow the expression tree with each rule.
    ``not_applicable`` holds, per gated item column, whether skip logic hid it (see
    :class:`fibrosurvey.instruments.logic.SkipLogic`): a hidden item is not missing data.
    """
    if not_applicable is None:
        not_applicable = SkipLogic([instrument]).not_applicable_expressions(schema.names())
    scope: dict[str, pl.Expr] = {}
    for item in instrument.items:
        scope[item.id] = _item_value(item, schema)
    layers: list[pl.Expr] = []
    guard = f"__{instrument.id}_complete"
    if instrument.all_items_required:
        complete = pl.all_horizontal(
            [
                scope[item.id].is_not_null() | not_applicable.get(item.column, pl.lit(False))
                for item in instrument.items
            ]
        )
        layers.append(complete.alias(guard))
    for rule in instrument.scores:
        column = f"{instrument.id}_{rule.id}"
        expression = rule_expression(rule, scope)
        if instrument.all_items_required:
            expression = pl.when(pl.col(guard)).then(expression)
        if rule.when_not_applicable is not None:
            read = [instrument.item(name).column for name in _items_read(instrument, rule.id)]
            if read and all(column in not_applicable for column in read):
                hidden = pl.all_horizontal([not_applicable[column] for column in read])
                value = pl.lit(rule.when_not_applicable)
                expression = pl.when(hidden).then(value).otherwise(expression)
        layers.append(expression.alias(column))
        scope[rule.id] = pl.col(column)
    return layers


def _check_numeric(frame: pl.DataFrame, instruments: list[Instrument]) -> None:
    for instrument in instruments:
        for item in instrument.items:
            if item.kind in ("text", "date"):
                continue  # free text and dates are kept, never scored
            column = item.column
            dtype = frame.schema.get(column)
            if dtype is not None and not (dtype.is_numeric() or dtype == pl.Null):
                raise TypeError(
                    f"item column {column} holds {dtype}, not numbers: validate the table and "
                    "convert it with fibrosurvey.tables.coerce_items before scoring"
                )


def scoring_provenance(instruments: Iterable[Instrument]) -> str:
    """``id@version`` of each instrument scored, e.g. ``phq9@1.0.0;gad7@1.0.0``."""
    return ";".join(f"{instrument.id}@{instrument.version}" for instrument in instruments)


def score_frame(frame: pl.DataFrame, instruments: Iterable[str] | None = None) -> pl.DataFrame:
    """Add ``<instrument>_<score>`` columns for every instrument with items in ``frame``.

    Item columns must already be valid numbers (see :func:`fibrosurvey.validation.
    validate_frame`). Existing score columns are replaced. Instruments none of whose item columns
    are present are skipped. All rows are scored at once by Polars expressions.
    """
    return score_frame_with(frame, _selected(instruments))


def score_frame_with(frame: pl.DataFrame, instruments: Iterable[Instrument]) -> pl.DataFrame:
    """:func:`score_frame` with the given definitions (a study's own, imported instruments)."""
    columns = set(frame.columns)
    scored = [instrument for instrument in instruments if _present(instrument, columns)]
    if not scored:
        return frame
    _check_numeric(frame, scored)
    # Skip logic across the scored instruments (a gate in another instrument of the table).
    not_applicable = SkipLogic(scored).not_applicable_expressions(frame.columns)
    per_instrument = [
        _score_layers(instrument, frame.schema, not_applicable) for instrument in scored
    ]
    # Only the item columns go through the query: the rest of the table is never copied.
    items = [c for instrument in scored for c in instrument.item_columns() if c in columns]
    gates = {
        condition.question
        for instrument in scored
        for item in instrument.items
        for condition in item.enable_when
        if condition.question in columns
    }
    items += sorted(gates - set(items))
    plan = frame.lazy().select(items)
    # Layer k holds every instrument's k-th score, so independent instruments score together.
    for depth in range(max(len(layers) for layers in per_instrument)):
        plan = plan.with_columns(
            [layers[depth] for layers in per_instrument if depth < len(layers)]
        )
    score_columns = [c for instrument in scored for c in instrument.score_columns()]
    scores = plan.select(score_columns).collect()
    provenance = pl.lit(scoring_provenance(scored)).cast(pl.Categorical)
    kept = frame.drop([c for c in (*score_columns, SCORING_VERSIONS_COLUMN) if c in columns])
    return kept.hstack(scores).with_columns(provenance.alias(SCORING_VERSIONS_COLUMN))


def _number(item: Item, value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    number = float(value)
    if item.kind == "number":
        return number
    if not number.is_integer():
        raise ValueError(f"{item.column}: {value!r} is not a whole number; validate answers first")
    return int(number)


@functools.cache
def _response_plan(key: str) -> tuple[dict[str, pl.DataType], list[pl.Expr]]:
    """Schema and score layers for one response's row (built once per instrument definition:
    the web app scores a response each time a participant completes an instrument)."""
    instrument = get_instrument(instrument_id_of(key))
    # Free text and dates are kept, never scored (as in :func:`score_frame`).
    schema: dict[str, pl.DataType] = {
        item.column: pl.Float64() if item.kind == "number" else pl.Int64()
        for item in instrument.items
        if item.kind not in ("text", "date")
    }
    return schema, _score_layers(instrument, pl.Schema(schema))


def score_response(answers: Mapping[str, Any], instrument_id: str) -> dict[str, Any]:
    """Scores of one participant's validated answers to one instrument, keyed by score column.

    The same expressions as :func:`score_frame` on a one-row table.
    """
    instrument = get_instrument(instrument_id)
    schema, layers = _response_plan(definition_key(instrument_id))
    row = {
        item.column: [_number(item, answers.get(item.column))]
        for item in instrument.items
        if item.column in schema
    }
    plan = pl.DataFrame(row, schema=schema).lazy()
    for layer in layers:
        plan = plan.with_columns(layer)
    scored = plan.select(instrument.score_columns()).collect()
    return {column: scored[column][0] for column in instrument.score_columns()}
