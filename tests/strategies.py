"""Hypothesis strategies shared across the test suite."""

from __future__ import annotations

import functools
from typing import Any

import polars as pl
from hypothesis import strategies as st

from fibrosurvey.instruments import Instrument, Item, get_instrument
from fibrosurvey.instruments.logic import SkipLogic
from fibrosurvey.instruments.schema import EnableWhen


def valid_value(item: Item) -> st.SearchStrategy[int | float]:
    """Any allowed answer to ``item``."""
    if item.kind == "choice":
        return st.sampled_from(item.codes)
    assert item.minimum is not None and item.maximum is not None
    if item.kind == "integer":
        return st.integers(int(item.minimum), int(item.maximum))
    return st.floats(item.minimum, item.maximum, allow_nan=False)


def invalid_value(item: Item) -> st.SearchStrategy[str]:
    """A cell that must be rejected: out of range, not a code, not a number, or fractional."""
    if item.kind == "choice":
        numbers = st.integers(-1000, 1000).filter(lambda v: v not in item.codes)
    else:
        assert item.minimum is not None and item.maximum is not None
        numbers = st.one_of(
            st.floats(
                max_value=item.minimum, exclude_max=True, allow_nan=False, allow_infinity=False
            ),
            st.floats(
                min_value=item.maximum, exclude_min=True, allow_nan=False, allow_infinity=False
            ),
        )
    garbage = st.sampled_from(["abc", "1,5", "two", "NaN", "=cmd|' /C calc'!A0", "--", "1e999"])
    fractional = st.just("1.5") if item.kind != "number" else st.nothing()
    return st.one_of(numbers.map(str), garbage, fractional)


def item_answers(
    instrument: Instrument, missing: float = 0.1
) -> dict[str, st.SearchStrategy[int | float | None]]:
    """A strategy per item column: an allowed answer, or missing about ``missing`` of the time."""

    def maybe_missing(item: Item) -> st.SearchStrategy[int | float | None]:
        if missing <= 0:
            return valid_value(item)
        copies = max(1, round((1 - missing) / missing))
        return st.one_of(*[valid_value(item)] * copies, st.none())

    return {item.column: maybe_missing(item) for item in instrument.items}


def answers(
    instrument: Instrument, missing: float = 0.1
) -> st.SearchStrategy[dict[str, int | float | None]]:
    """One participant's answers to ``instrument``; each item missing with some chance.

    Items the instrument's skip logic hides given the other answers are empty (as stored).
    """
    logic = SkipLogic([instrument])

    def without_hidden(drawn: dict[str, int | float | None]) -> dict[str, int | float | None]:
        hidden = logic.disabled_columns(drawn)
        return {column: None if column in hidden else v for column, v in drawn.items()}

    return st.fixed_dictionaries(item_answers(instrument, missing)).map(without_hidden)


@st.composite
def answer_frames(
    draw: st.DrawFn, instrument_ids: list[str], min_rows: int = 1, max_rows: int = 30
) -> pl.DataFrame:
    """A table of valid (possibly incomplete) answers to several instruments."""
    instruments = [get_instrument(instrument_id) for instrument_id in instrument_ids]
    rows = draw(
        st.lists(_row_strategy(tuple(instrument_ids)), min_size=min_rows, max_size=max_rows)
    )
    schema = {
        item.column: (pl.Float64 if item.kind == "number" else pl.Int64)
        for instrument in instruments
        for item in instrument.items
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


@functools.cache
def _row_strategy(instrument_ids: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    # Built once per battery: constructing strategies on every draw dominates the run time.
    columns: dict[str, st.SearchStrategy[int | float | None]] = {}
    for instrument_id in instrument_ids:
        columns |= item_answers(get_instrument(instrument_id))
    return st.fixed_dictionaries(columns)


def cell_text() -> st.SearchStrategy[str]:
    """Text a cell might hold: numbers in every spelling, padded, mangled, or anything at all."""
    pad = st.sampled_from(["", " ", "\t", "\xa0", "\u3000", "\x1c", "\n"])
    numeric = st.one_of(
        st.integers(-20, 1000).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.from_regex(r"[+-]?[0-9_]{0,3}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
        st.sampled_from(["-0", "0.0", "1.", ".5", "1e1", "inf", "-Infinity", "NaN", "１", "٣"]),
    )
    core = st.one_of(numeric, st.text(max_size=6))
    return st.tuples(pad, core, pad).map("".join)


OPERATORS = ("exists", "=", "!=", ">", "<", ">=", "<=")


@st.composite
def simple_rules(draw: st.DrawFn, item: Item) -> EnableWhen:
    """One enableWhen condition on ``item`` (its codes for choice items, in range otherwise)."""
    # Answer codes are Codings: choice items compare only by (in)equality, as in FHIR.
    operator = draw(st.sampled_from(OPERATORS[:3] if item.kind == "choice" else OPERATORS))
    if operator == "exists":
        return EnableWhen(question=item.column, operator="exists", answer=draw(st.booleans()))
    answer = draw(valid_value(item))
    return EnableWhen(question=item.column, operator=operator, answer=float(answer))


# -- REDCap branching logic -------------------------------------------------------------------


def _redcap_comparison() -> st.SearchStrategy[Any]:
    from fibrosurvey.redcap.logic import Comparison

    fields = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
    codes = st.none() | st.from_regex(r"-?[A-Za-z0-9]{1,3}", fullmatch=True)
    values = st.none() | st.integers(-99, 999).map(float)
    return st.builds(
        Comparison,
        field=fields,
        operator=st.sampled_from(["=", "!=", ">", "<", ">=", "<="]),
        value=values,
        code=codes,
    ).filter(lambda c: c.value is not None or c.operator in ("=", "!="))


def redcap_logic() -> st.SearchStrategy[Any]:
    """A branching-logic tree (no nested group of the same kind, as the parser flattens)."""
    from fibrosurvey.redcap.logic import All, Any_

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        def group(kind: type, parts: list[Any]) -> Any:
            flat: list[Any] = []
            for part in parts:
                flat.extend(part.parts if isinstance(part, kind) else [part])
            return kind(tuple(flat))

        return st.builds(
            group, st.sampled_from([All, Any_]), st.lists(children, min_size=2, max_size=3)
        )

    return st.recursive(_redcap_comparison(), extend, max_leaves=6)


# Fields of the small REDCap form the branching-logic property test converts: a radio with codes
# 0-3, an integer 0-10 and a checkbox with boxes 1 and 2; each with the values comparisons use.
REDCAP_LOGIC_FIELDS: dict[tuple[str, str | None], list[int]] = {
    ("a", None): [0, 1, 2, 3],
    ("n", None): list(range(11)),
    ("c", "1"): [0, 1],
    ("c", "2"): [0, 1],
}


@st.composite
def _redcap_field_comparison(draw: st.DrawFn) -> Any:
    from fibrosurvey.redcap.logic import Comparison

    field, code = draw(st.sampled_from(sorted(REDCAP_LOGIC_FIELDS, key=str)))
    if draw(st.integers(0, 9)) == 0:
        return Comparison(field, draw(st.sampled_from(["=", "!="])), None, code)
    ordered = field != "c"
    operator = draw(st.sampled_from(["=", "!=", ">", "<", ">=", "<="] if ordered else ["=", "!="]))
    values = REDCAP_LOGIC_FIELDS[(field, code)]
    if operator in ("=", "!="):
        value = draw(st.sampled_from(values))
    else:
        value = draw(st.integers(min(values) - 1, max(values) + 1))
    return Comparison(field, operator, float(value), code)


def redcap_field_logic() -> st.SearchStrategy[Any]:
    """Branching logic over :data:`REDCAP_LOGIC_FIELDS` (and/or nested, flattened)."""
    from fibrosurvey.redcap.logic import All, Any_

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        def group(kind: type, parts: list[Any]) -> Any:
            flat: list[Any] = []
            for part in parts:
                flat.extend(part.parts if isinstance(part, kind) else [part])
            return kind(tuple(flat))

        return st.builds(
            group, st.sampled_from([All, Any_]), st.lists(children, min_size=2, max_size=3)
        )

    return st.recursive(_redcap_field_comparison(), extend, max_leaves=5)
