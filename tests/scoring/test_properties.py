"""Properties every scored table must have, whatever the answers."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fibrosurvey.instruments import get_instrument, load_instruments
from fibrosurvey.instruments.schema import SumOfScoresRule
from fibrosurvey.scoring import score_frame, score_response
from tests.strategies import answer_frames

SCORED = ["fsq", "fiqr", "phq9", "gad7", "jss", "peg", "migraine", "ibs", "demo"]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bounded_scores() -> list[tuple[str, float, float]]:
    bounds = []
    for instrument in load_instruments().values():
        for rule in instrument.scores:
            minimum = getattr(rule, "minimum", None)
            maximum = getattr(rule, "maximum", None)
            if minimum is not None and maximum is not None:
                bounds.append((f"{instrument.id}_{rule.id}", minimum, maximum))
    return bounds


@FAST
@given(answer_frames(SCORED, max_rows=12))
def test_scores_stay_within_their_bounds(frame: pl.DataFrame) -> None:
    scored = score_frame(frame)
    for column, minimum, maximum in bounded_scores():
        values = scored[column].drop_nulls()
        assert values.is_between(minimum, maximum).all(), column


@FAST
@given(answer_frames(SCORED, min_rows=2, max_rows=12), st.randoms(use_true_random=False))
def test_shuffling_rows_changes_no_rows_score(frame: pl.DataFrame, random) -> None:
    frame = frame.with_row_index("row")
    order = list(range(frame.height))
    random.shuffle(order)
    straight = score_frame(frame).sort("row")
    shuffled = score_frame(frame[order]).sort("row")
    differing = [c for c in straight.columns if not straight[c].equals(shuffled[c])]
    assert not differing, {c: (straight[c].to_list(), shuffled[c].to_list()) for c in differing}


TOTALS = [
    ("phq9", "phq9_total"),
    ("gad7", "gad7_total"),
    ("fiqr", "fiqr_total"),
    ("jss", "jss_total"),
    ("peg", "peg_score"),
    ("fsq", "fsq_fs"),
    ("ibs", "ibs_count"),
]


@pytest.mark.parametrize(("instrument_id", "total"), TOTALS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_raising_one_item_never_lowers_the_total(instrument_id: str, total: str, data) -> None:
    instrument = get_instrument(instrument_id)
    frame = data.draw(answer_frames([instrument_id], max_rows=1, min_rows=1))
    answered = [
        item
        for item in instrument.items
        if frame[item.column][0] is not None
        and frame[item.column][0] < (item.maximum or max(item.codes))
    ]
    if not answered:
        return
    item = data.draw(st.sampled_from(answered))
    raised = frame.with_columns(pl.col(item.column) + 1)
    before = score_frame(frame)[total][0]
    after = score_frame(raised)[total][0]
    if before is not None:
        assert after is not None and after >= before


def test_sum_of_scores_rules_only_refer_to_earlier_scores() -> None:
    for instrument in load_instruments().values():
        seen: set[str] = set()
        for rule in instrument.scores:
            if isinstance(rule, SumOfScoresRule):
                assert set(rule.scores) <= seen
            seen.add(rule.id)


@pytest.mark.parametrize("instrument_id", SCORED)
@FAST
@given(data=st.data())
def test_one_response_scores_as_its_row_in_a_table(instrument_id: str, data: st.DataObject) -> None:
    """score_response (the web app's path) and score_frame give the same scores."""
    frame = data.draw(answer_frames([instrument_id], min_rows=1, max_rows=1))
    row = frame.row(0, named=True)
    expected = score_frame(frame, [instrument_id]).row(0, named=True)
    scores = score_response(row, instrument_id)
    assert scores == {column: expected[column] for column in scores}
