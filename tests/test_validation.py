"""The one validator: every problem reported with row, column, value and allowed values."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from fibrosurvey.instruments import Item, load_instruments
from fibrosurvey.validation import cell_reason, validate_frame, validate_response
from tests.strategies import cell_text, invalid_value, valid_value

ALL_ITEMS = [item for instrument in load_instruments().values() for item in instrument.items]


def text_frame(columns: dict[str, list[str | None]]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def test_reports_every_problem_not_only_the_first() -> None:
    frame = text_frame(
        {
            "participant_id": ["p1", "p2", "p3", "p4"],
            "phq9_1": ["1", "4", "x", None],
            "phq9_2": ["1.5", "2", "", "3"],
        }
    )
    report = validate_frame(frame)
    found = {(p.row, p.column, p.value, p.allowed) for p in report.problems}
    assert found == {
        (2, "phq9_1", "4", "0, 1, 2, 3"),
        (3, "phq9_1", "x", "0, 1, 2, 3"),
        (1, "phq9_2", "1.5", "0, 1, 2, 3"),
    }
    assert not report.ok


def test_missing_is_empty_and_allowed() -> None:
    frame = text_frame({"phq9_1": ["", None, "0"], "gad7_3": [None, "", "3"]})
    assert validate_frame(frame).ok


def test_numeric_items_report_their_range() -> None:
    frame = text_frame({"demo_age": ["17", "45", "111", "45.5"]})
    problems = validate_frame(frame).problems
    assert [(p.row, p.message) for p in problems] == [
        (1, "out of range"),
        (3, "out of range"),
        (4, "not a whole number"),
    ]
    assert problems[0].allowed == "whole number from 18 to 110"


def test_unknown_item_of_known_instrument_is_reported() -> None:
    problems = validate_frame(text_frame({"phq9_11": ["1"]})).problems
    assert [(p.column, p.message) for p in problems] == [("phq9_11", "not an item of phq9")]


def test_columns_outside_instruments_are_left_alone() -> None:
    assert validate_frame(text_frame({"participant_id": ["x"], "aea": ["-3"]})).ok


def test_response_reports_unknown_question_bad_value_and_required() -> None:
    report = validate_response({"phq9_1": 2, "phq9_9": "7", "foo": 1}, "phq9", ["phq9_2"])
    assert {(p.column, p.message) for p in report.problems} == {
        ("foo", "unknown question"),
        ("phq9_9", "not one of the answer codes"),
        ("phq9_2", "an answer is needed"),
    }


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_rejects_every_out_of_range_value(data) -> None:
    item = data.draw(st.sampled_from(ALL_ITEMS))
    bad = data.draw(invalid_value(item))
    report = validate_frame(text_frame({item.column: ["", bad]}))
    assert [(p.row, p.column) for p in report.problems] == [(2, item.column)], bad


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_accepts_every_allowed_value(data) -> None:
    item = data.draw(st.sampled_from(ALL_ITEMS))
    good = data.draw(valid_value(item))
    assert validate_frame(text_frame({item.column: [str(good)]})).ok


@settings(max_examples=400, deadline=None)
@given(item=st.sampled_from(ALL_ITEMS), text=cell_text())
def test_one_response_is_judged_exactly_as_a_table_row(item: Item, text: str) -> None:
    """validate_response checks cells in plain Python; validate_frame in one polars query.
    Both must accept, reject and explain every cell alike."""
    frame_report = validate_frame(text_frame({item.column: [text]}))
    single = validate_response({item.column: text}, item.column.split("_", 1)[0])
    assert [(p.column, p.value, p.message) for p in single.problems] == [
        (p.column, p.value, p.message) for p in frame_report.problems
    ]
    assert cell_reason(item, text) == (
        frame_report.problems[0].message if frame_report.problems else None
    )
