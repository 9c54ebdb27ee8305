"""Scores and item statuses under skip logic: not applicable is not missing data."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from fibrosurvey.instruments import Instrument, Option, get_instrument
from fibrosurvey.scoring import score_frame, score_response
from fibrosurvey.scoring.status import (
    item_status_frame,
    response_item_statuses,
    status_columns,
)
from fibrosurvey.validation import validate_frame, validate_response
from tests.strategies import answer_frames

BATTERY = ["migraine", "ibs", "tx", "demo"]


def test_no_headaches_scores_migraine_as_not_positive() -> None:
    assert score_response({"migraine_headaches": 0}, "migraine") == {"migraine_positive": 0}


def test_skipped_headache_question_leaves_migraine_missing() -> None:
    assert score_response({"migraine_headaches": None}, "migraine") == {"migraine_positive": None}


def test_no_abdominal_pain_leaves_the_count_missing_and_ibs_not_positive() -> None:
    assert score_response({"ibs_abdominal_pain": 0}, "ibs") == {
        "ibs_count": None,
        "ibs_positive": 0,
    }


def test_table_and_single_response_score_not_applicable_alike() -> None:
    frame = pl.DataFrame(
        {
            "migraine_headaches": [0, None, 1],
            "migraine_1": [None, None, 1],
            "migraine_2": [None, None, 1],
            "migraine_3": [None, None, 0],
        },
        schema={c: pl.Int64 for c in ["migraine_headaches", *(f"migraine_{n}" for n in (1, 2, 3))]},
    )
    scored = score_frame(frame, ["migraine"])["migraine_positive"].to_list()
    assert scored == [0, None, 1]


def test_tables_from_before_the_gate_score_as_before() -> None:
    """Version 1.0.0 data has no gate column: everyone was asked."""
    frame = pl.DataFrame({"migraine_1": [1], "migraine_2": [1], "migraine_3": [0]})
    assert score_frame(frame, ["migraine"])["migraine_positive"].to_list() == [1]


def test_status_tells_answered_skipped_and_not_applicable_apart() -> None:
    frame = pl.DataFrame(
        {
            "demo_sex": [2, 1, 1, None],
            "demo_menopause": [None, 2, None, None],
        },
        schema={"demo_sex": pl.Int64, "demo_menopause": pl.Int64},
    )
    statuses = item_status_frame(frame, ["demo"])["demo_menopause_status"].cast(pl.String)
    # A man is not asked; a woman answered or skipped; no sex given: asked and skipped.
    assert statuses.to_list() == ["not_applicable", "answered", "skipped", "skipped"]
    assert "demo_menopause_status" in status_columns(get_instrument("demo"))
    assert "demo_age_status" not in status_columns(get_instrument("demo"))


def test_prefer_not_to_answer_has_its_own_status_and_is_never_scored() -> None:
    phq9 = get_instrument("phq9")
    refuse = Option(code=9, label={"en": "Prefer not to answer"}, prefer_not_to_answer=True)
    item = phq9.item("1")
    changed = phq9.model_copy(
        update={
            "items": tuple(
                i.model_copy(update={"options": (*item.options, refuse)}) if i.id == "1" else i
                for i in phq9.items
            )
        }
    )
    assert changed.item("1").prefer_not_to_answer_codes == (9,)
    assert _status_of(changed, {"phq9_1": 9}) == "prefer_not_to_answer"
    assert _status_of(changed, {"phq9_1": 2}) == "answered"


def _status_of(instrument: Instrument, row: dict[str, int]) -> str:
    from fibrosurvey.scoring import status

    # An instrument built here is not in the registry: patch the lookup for this call.
    original = status._selected
    status._selected = lambda _ids: [instrument]  # type: ignore[assignment]
    try:
        frame = pl.DataFrame(row)
        column = item_status_frame(frame, [instrument.id])["phq9_1_status"]
        single = response_item_statuses(row, [instrument.id])["phq9_1"]
    finally:
        status._selected = original  # type: ignore[assignment]
    assert str(column[0]) == single
    return single


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_frames(BATTERY, min_rows=1, max_rows=15))
def test_table_statuses_equal_single_response_statuses(frame: pl.DataFrame) -> None:
    statuses = item_status_frame(frame, BATTERY, every_item=True).to_dicts()
    for position, row in enumerate(frame.to_dicts()):
        single = response_item_statuses(row, BATTERY)
        table = {column.removesuffix("_status"): str(v) for column, v in statuses[position].items()}
        assert table == single, position


# --- validation refuses answers to hidden items --------------------------------------------


def test_cbd_dose_after_no_cbd_is_refused_naming_the_gate() -> None:
    report = validate_response({"tx_cbd_product": 0, "tx_cbd_mg_day": 10}, "tx")
    assert [(p.column, p.allowed) for p in report.problems] == [("tx_cbd_mg_day", "empty")]
    assert "tx_cbd_product" in report.problems[0].message


def test_menopause_answer_of_a_man_is_refused_with_the_sex_from_earlier_answers() -> None:
    report = validate_response({"demo_menopause": 1}, "demo", context={"demo_sex": 2})
    assert [p.column for p in report.problems] == ["demo_menopause"]
    assert validate_response({"demo_menopause": 1}, "demo", context={"demo_sex": 1}).ok


def test_table_with_an_answer_to_a_hidden_item_is_refused_by_row() -> None:
    frame = pl.DataFrame({"tx_thc_use": ["1", "0", "0"], "tx_thc_mg_day": ["2.5", "", "5"]})
    report = validate_frame(frame, ["tx"])
    assert [(p.row, p.column, p.value) for p in report.problems] == [(3, "tx_thc_mg_day", "5")]


@pytest.mark.parametrize("suffix", ["_status"])
def test_status_columns_beside_items_are_not_typos(suffix: str) -> None:
    frame = pl.DataFrame({"demo_sex": [2], f"demo_menopause{suffix}": ["not_applicable"]})
    assert validate_frame(frame, ["demo"]).ok


def test_table_answers_under_an_empty_gate_stay_valid_as_in_earlier_versions() -> None:
    """An export mixing 1.0.0 responses (no gate asked) with 1.1.0 ones validates."""
    frame = pl.DataFrame({"migraine_headaches": [None, 0], "migraine_1": [1, None]})
    assert validate_frame(frame, ["migraine"]).ok
    single = validate_response(
        {"migraine_headaches": None, "migraine_1": 1}, "migraine", refuse="not_applicable"
    )
    assert single.ok
    # The survey itself never accepts an answer to a question it did not ask.
    assert not validate_response({"migraine_headaches": None, "migraine_1": 1}, "migraine").ok
